/* vpython's native warm-path launcher.
 *
 * Installed as `vpython` / `vpython3` beside the pure-Python command, `vpython-py`.
 * It handles one case: a plain run (`vpython [python flags] script.py args...`, or
 * `-m mod`, `-c cmd` without an inline spec, `-` for stdin) whose env the Python path
 * has already found and described in the launch index
 * (`<root>/v1/launch/<fnv64 of the target>`, written by vpython/env/launch_index.py).
 * The entry lists every fact the Python path's answer rests on (file identities,
 * paths that must still not exist, environment variables); when each still holds, the
 * launcher does what vpython/env/fastpath.py + execute.py do on a warm run: a shared
 * flock on the env's use lock kept across exec, the same-file check, pyvenv.cfg under
 * the lock, utime of the lock (last use, read by pruning), the child environment, and
 * execve of the env's python with python's argv unchanged.
 *
 * Anything else -- a vpython flag, a subcommand, VPYTHON_BYPASS / VPYTHON_LOG_TRACE,
 * an argv python would reject, no entry, any fact that no longer holds, any error --
 * goes to the Python path by execv of `vpython-py` (found beside this binary's real
 * path, never through PATH) with the argv unchanged. Plain runs that miss carry
 * VPYTHON_LAUNCHER_MISS=<reason>; the Python path removes it from its environment and
 * writes the entry. The launcher never decides anything the Python path would decide
 * differently: when in doubt it hands off.
 *
 * POSIX only (Linux, macOS). No allocation-heavy work, no locale, no stdio on the hit path.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>
#ifdef __APPLE__
#include <mach-o/dyld.h>
#define ST_MTIM(st) ((st).st_mtimespec)
#define ST_CTIM(st) ((st).st_ctimespec)
#else
#define ST_MTIM(st) ((st).st_mtim)
#define ST_CTIM(st) ((st).st_ctim)
#endif

#ifndef VPY_VERSION
#error "build with -DVPY_VERSION=\"<vpython.__version__>\" (launcher/build.py does)"
#endif
#ifndef VPY_FORMAT
#error "build with -DVPY_FORMAT=\"<vpython.FORMAT_VERSION>\" (the cache layout's v<N> directory)"
#endif
#ifndef VPY_FALLBACK
#define VPY_FALLBACK "vpython-py"
#endif
#ifdef __APPLE__
#define VPY_PLATFORM "darwin"
#else
#define VPY_PLATFORM "linux"
#endif

#define INDEX_MAGIC "vpython-launch-index 1"
#define MISS_ENV "VPYTHON_LAUNCHER_MISS"
#define MAX_ENTRY (256 * 1024)

extern char **environ;

/* vpython/cli/main.py SUBCOMMANDS (tests/integration/test_launcher.py keeps them in step). */
static const char *const SUBCOMMANDS[] = {"lock", "build", "verify", "install", "gc", "cache", NULL};

/* ---------------------------------------------------------------- small strings */

typedef struct {
    char *p;
    size_t n, cap;
} buf;

static void die_oom(void) {
    static const char msg[] = "vpython: error: out of memory\n";
    ssize_t r = write(2, msg, sizeof msg - 1);
    (void)r;
    _exit(1);
}

static void b_add(buf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) die_oom();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void b_str(buf *b, const char *s) { b_add(b, s, strlen(s)); }

static char *cat3(const char *a, const char *b, const char *c) {
    buf r = {0};
    b_str(&r, a);
    b_str(&r, b);
    b_str(&r, c);
    return r.p;
}

/* ---------------------------------------------------------------- the hand-off */

static const char *g_miss; /* set once the run is a plain run: the reason it missed */

/* The directory of this binary's real path (symlinks to it resolved): vpython-py is
 * installed beside it. Never PATH. */
static char *self_dir(const char *argv0) {
    char path[PATH_MAX + 1];
    char *real = NULL;
#ifdef __APPLE__
    uint32_t size = sizeof path;
    if (_NSGetExecutablePath(path, &size) == 0) real = realpath(path, NULL);
#else
    ssize_t n = readlink("/proc/self/exe", path, PATH_MAX);
    if (n > 0) {
        path[n] = 0;
        real = strdup(path);
    }
#endif
    if (!real && argv0 && strchr(argv0, '/')) real = realpath(argv0, NULL);
    if (!real) return NULL;
    char *slash = strrchr(real, '/');
    if (!slash) return NULL;
    *slash = 0;
    return real;
}

__attribute__((noreturn)) static void handoff(char **argv) {
    char *dir = self_dir(argv[0]);
    char *target = dir ? cat3(dir, "/", VPY_FALLBACK) : NULL;
    if (target) {
        if (g_miss) setenv(MISS_ENV, g_miss, 1);
        execv(target, argv);
    }
    int e = errno;
    fprintf(stderr,
            "vpython: error: cannot run the Python fallback %s: %s\n"
            "  hint: the launcher needs %s installed beside it; reinstall vpython\n",
            target ? target : "(cannot locate this executable)", target ? strerror(e) : "-", VPY_FALLBACK);
    exit(1);
}

#define MISS(why)              \
    do {                       \
        g_miss = (why);        \
        return -1;             \
    } while (0)

/* ---------------------------------------------------------------- argv */

/* vpython/cli/flags.py split_flags: only a leading registered flag is vpython's. A plain
 * run has none, so python's argv is argv[1:] unchanged. */
static int is_vpython_flag(const char *a) {
    if (a[0] != '-' || strlen(a) < 2) return 0;
    const char *name = a[1] == '-' ? a + 2 : a + 1;
    size_t len = strcspn(name, "=");
    if (len == 1 && name[0] == 'h') return 1;
    if (len == 4 && strncmp(name, "help", 4) == 0) return 1;
    return strncmp(name, "vpython-", 8) == 0 && len >= 8;
}

enum kind { K_NONE, K_SCRIPT, K_COMMAND, K_MODULE, K_STDIN, K_ERROR };

static int in_list(const char *s, const char *const *list) {
    for (; *list; list++)
        if (strcmp(s, *list) == 0) return 1;
    return 0;
}

/* vpython/cli/pyargv.py parse_python_argv (CPython's getopt), reduced to the target.
 * Option letters are ASCII, so walking bytes decides exactly as walking code points. */
static enum kind parse_python_argv(int n, char **args, const char **target) {
    static const char *const long_no_value[] = {"help-env", "help-xoptions", "help-all", NULL};
    static const char *const hash_modes[] = {"default", "always", "never", NULL};
    int i = 0, separator = 0;
    *target = NULL;
    while (i < n) {
        const char *arg = args[i];
        if (strlen(arg) < 2 || arg[0] != '-') break;
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "--version") == 0) {
            i++;
            continue;
        }
        i++;
        size_t end = strlen(arg);
        for (size_t j = 1; j < end;) {
            char ch = arg[j++];
            if (ch == '-') {
                const char *name = arg + j;
                if (!*name) {
                    separator = 1;
                    break;
                }
                if (in_list(name, long_no_value)) {
                } else if (strcmp(name, "check-hash-based-pycs") == 0) {
                    if (i >= n || !in_list(args[i], hash_modes)) return K_ERROR;
                    i++;
                } else {
                    return K_ERROR;
                }
                break;
            }
            if (strchr("cmWXQ", ch)) {
                const char *value;
                if (j < end)
                    value = arg + j;
                else if (i < n)
                    value = args[i++];
                else
                    return K_ERROR;
                if (ch == 'c' || ch == 'm') {
                    *target = value;
                    return ch == 'c' ? K_COMMAND : K_MODULE;
                }
                break;
            }
            if (ch == 'J') return K_ERROR;
        }
        if (separator) break;
    }
    if (i < n) {
        *target = args[i];
        return strcmp(args[i], "-") == 0 ? K_STDIN : K_SCRIPT;
    }
    return K_NONE;
}

/* ---------------------------------------------------------------- paths */

/* posixpath.normpath */
static char *normpath(const char *p) {
    size_t len = strlen(p);
    if (!len) return strdup(".");
    int initial = p[0] == '/' ? 1 : 0;
    if (initial && p[1] == '/' && p[2] != '/') initial = 2;
    char **comps = malloc(sizeof(char *) * (len / 2 + 2));
    size_t *lens = malloc(sizeof(size_t) * (len / 2 + 2));
    if (!comps || !lens) die_oom();
    size_t nc = 0;
    const char *s = p;
    while (*s) {
        while (*s == '/') s++;
        if (!*s) break;
        const char *e = strchr(s, '/');
        size_t cl = e ? (size_t)(e - s) : strlen(s);
        if (cl == 1 && s[0] == '.') {
        } else if (cl == 2 && s[0] == '.' && s[1] == '.') {
            if ((!initial && nc == 0) || (nc > 0 && lens[nc - 1] == 2 && comps[nc - 1][0] == '.' &&
                                          comps[nc - 1][1] == '.')) {
                comps[nc] = (char *)s;
                lens[nc++] = 2;
            } else if (nc > 0) {
                nc--;
            }
        } else {
            comps[nc] = (char *)s;
            lens[nc++] = cl;
        }
        s += cl;
    }
    buf r = {0};
    b_add(&r, "//", (size_t)initial);
    for (size_t k = 0; k < nc; k++) {
        if (k) b_add(&r, "/", 1);
        b_add(&r, comps[k], lens[k]);
    }
    free(comps);
    free(lens);
    if (!r.n) b_str(&r, ".");
    return r.p;
}

static char *g_cwd;

static const char *cwd(void) {
    if (!g_cwd) g_cwd = getcwd(NULL, 0);
    return g_cwd;
}

/* posixpath.abspath */
static char *abspath(const char *p) {
    if (p[0] == '/') return normpath(p);
    if (!cwd()) return NULL;
    char *joined = cat3(g_cwd, "/", p);
    char *r = normpath(joined);
    free(joined);
    return r;
}

/* vpython/store/root.py resolve_root, without -vpython-root (a flag: handed off). */
static char *user_cache_dir(void) {
#ifdef __APPLE__
    const char *home = getenv("HOME");
    return home && *home ? cat3(home, "/", "Library/Caches") : strdup("");
#else
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/') return strdup(xdg);
    const char *home = getenv("HOME");
    return home && *home ? cat3(home, "/", ".cache") : strdup("");
#endif
}

/* os.path.join(a, b) for a relative b */
static char *join(const char *a, const char *b) {
    size_t n = strlen(a);
    return cat3(a, n == 0 || a[n - 1] == '/' ? "" : "/", b);
}

/* tempfile.gettempdir(): the first candidate where a file can be created. */
static char *gettempdir(void) {
    const char *cands[8];
    int n = 0;
    const char *names[] = {"TMPDIR", "TEMP", "TMP"};
    for (int k = 0; k < 3; k++) {
        const char *v = getenv(names[k]);
        if (v && *v) cands[n++] = v;
    }
    cands[n++] = "/tmp";
    cands[n++] = "/var/tmp";
    cands[n++] = "/usr/tmp";
    if (cwd()) cands[n++] = g_cwd;
    for (int k = 0; k < n; k++) {
        char *dir = strcmp(cands[k], ".") == 0 && cwd() ? strdup(g_cwd) : abspath(cands[k]);
        if (!dir) continue;
        for (int attempt = 0; attempt < 100; attempt++) {
            char name[64];
            snprintf(name, sizeof name, "vpl%ld-%d-%lx", (long)getpid(), attempt, (unsigned long)random());
            char *probe = join(dir, name);
            int fd = open(probe, O_RDWR | O_CREAT | O_EXCL, 0600);
            int err = errno;
            if (fd >= 0) {
                ssize_t w = write(fd, "blat", 4);
                (void)w;
                close(fd);
                unlink(probe);
                free(probe);
                return dir;
            }
            free(probe);
            if (err != EEXIST) break;
        }
        free(dir);
    }
    return NULL;
}

static char *resolve_root(void) {
    char *root;
    const char *env = getenv("VPYTHON_VIRTUALENV_ROOT");
    if (env) {
        root = strdup(env);
    } else {
        char *cache = user_cache_dir();
        char name[64];
        snprintf(name, sizeof name, "vpython-root.%ld", (long)getuid());
        root = *cache ? join(cache, name) : strdup("");
        free(cache);
    }
    if (!*root) {
        free(root);
        char *tmp = gettempdir();
        if (!tmp) return NULL;
        char name[64];
        snprintf(name, sizeof name, "vpython-root_%ld", (long)getuid());
        root = join(tmp, name);
        free(tmp);
    }
    if (root[0] == '~') {
        /* posixpath.expanduser for "~" and "~/...": HOME (rstripped of "/"); other
         * spellings (~user, no HOME) are rare enough to leave to the Python path. */
        const char *home = getenv("HOME");
        if (!(root[1] == 0 || root[1] == '/') || !home) return NULL;
        size_t hl = strlen(home);
        while (hl > 0 && home[hl - 1] == '/') hl--;
        buf r = {0};
        b_add(&r, home, hl);
        b_str(&r, root + 1);
        free(root);
        root = r.n ? r.p : strdup("~");
    }
    char *abs = abspath(root);
    free(root);
    return abs;
}

/* ---------------------------------------------------------------- trust */

/* vpython/store/trust.py's private-root rules for what the launcher reads: the root, its
 * parent, v1/, v1/launch/ and the entry file, v1/envs/ and the env dir. Any doubt is a
 * hand-off: the Python path applies the same rules and explains a refusal (a shared root,
 * VPYTHON_SHARED_ROOT, is always handed off; the config file's shared-root too, since the
 * private rules fail for such a root first). */
static int private_stat(const struct stat *st) {
    return st->st_uid == geteuid() && (st->st_mode & 022) == 0;
}

/* A directory (not a symlink) owned by us and not writable by group or others. */
static int private_dir(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && private_stat(&st);
}

static int trusted_root(const char *root) {
    struct stat st;
    if (lstat(root, &st)) return 0;
    if (S_ISLNK(st.st_mode)) { /* followed only when the link is ours or root's */
        if (st.st_uid != geteuid() && st.st_uid != 0) return 0;
        if (stat(root, &st)) return 0;
    }
    if (!S_ISDIR(st.st_mode) || !private_stat(&st)) return 0;
    /* The parent (the path as given): ours or root's, and nobody else can rename the root
     * away, unless it is sticky (/tmp). */
    const char *slash = strrchr(root, '/');
    char *parent = slash == root ? strdup("/") : strndup(root, (size_t)(slash - root));
    if (!parent) die_oom();
    int ok = stat(parent, &st) == 0 && (st.st_uid == geteuid() || st.st_uid == 0) &&
             (!(st.st_mode & 022) || (st.st_mode & S_ISVTX));
    free(parent);
    return ok;
}

/* ---------------------------------------------------------------- the index entry */

static uint64_t fnv1a(const char *s, size_t n, uint64_t h) {
    for (size_t k = 0; k < n; k++) {
        h ^= (unsigned char)s[k];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Fields are %XX-escaped (bytes outside 0x21-0x7e and '%'); decode in place. */
static int unescape(char *s) {
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r != '%') {
            *w++ = *r;
            continue;
        }
        int v = 0;
        for (int k = 1; k <= 2; k++) {
            char c = r[k];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                   : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) return -1;
            v = v * 16 + d;
        }
        if (v == 0) return -1; /* no NUL inside a path or value */
        *w++ = (char)v;
        r += 2;
    }
    *w = 0;
    return 0;
}

static char *read_entry(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || !private_stat(&st)) { /* trust.py's rule for pointers */
        close(fd);
        return NULL;
    }
    char *data = malloc(MAX_ENTRY + 1);
    if (!data) die_oom();
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, data + n, MAX_ENTRY - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
        if (n == MAX_ENTRY) break;
    }
    close(fd);
    if (n == MAX_ENTRY) {
        free(data);
        return NULL;
    }
    data[n] = 0;
    if (memchr(data, 0, n)) {
        free(data);
        return NULL;
    }
    return data;
}

#define MAX_FIELDS 8

static int split_fields(char *line, char **f) {
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (n == MAX_FIELDS) return -1;
        f[n++] = t;
    }
    return n;
}

static long long num(const char *s, int *ok) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s) *ok = 0;
    return v;
}

static long long ns(struct timespec t) { return (long long)t.tv_sec * 1000000000LL + t.tv_nsec; }

/* stat(2) failed the way discovery treats as "not there" (FileNotFoundError,
 * NotADirectoryError). Anything else makes the Python path raise: hand off. */
static int gone(void) { return errno == ENOENT || errno == ENOTDIR; }

struct hit {
    const char *root, *key, *env_key, *interp_path, *interp_id;
    int have_end;
};

/* One record. 0: holds; -1: does not (g_miss says why). */
static int check_record(char **f, int n, struct hit *h) {
    struct stat st;
    const char *tag = f[0];
    for (int k = 1; k < n; k++)
        if (unescape(f[k])) MISS("index entry unreadable");
    if (strcmp(tag, "version") == 0 && n == 2) {
        if (strcmp(f[1], VPY_VERSION)) MISS("index entry from another vpython version");
    } else if (strcmp(tag, "platform") == 0 && n == 3) {
        struct utsname u;
        if (strcmp(f[1], VPY_PLATFORM) || uname(&u) || strcmp(f[2], u.machine))
            MISS("index entry from another platform");
    } else if (strcmp(tag, "root") == 0 && n == 2) {
        if (strcmp(f[1], h->root)) MISS("index entry for another root");
    } else if (strcmp(tag, "key") == 0 && n == 2) {
        if (strcmp(f[1], h->key)) MISS("index entry for another target");
    } else if (strcmp(tag, "env") == 0 && n == 3) {
        const char *v = getenv(f[1]);
        if (f[2][0] != '=') MISS("index entry unreadable");
        if (!v || strcmp(v, f[2] + 1)) MISS("environment variable changed");
    } else if (strcmp(tag, "unset") == 0 && n == 2) {
        if (getenv(f[1])) MISS("environment variable changed");
    } else if (strcmp(tag, "realpath") == 0 && n == 3) {
        char *r = realpath(f[1], NULL);
        int same = r && strcmp(r, f[2]) == 0;
        free(r);
        if (!same) MISS("symlink changed");
    } else if (strcmp(tag, "file") == 0 && n == 7) {
        int ok = 1;
        long long dev = num(f[1], &ok), ino = num(f[2], &ok), size = num(f[3], &ok);
        long long mt = num(f[4], &ok), ct = num(f[5], &ok);
        if (!ok) MISS("index entry unreadable");
        if (stat(f[6], &st) || !S_ISREG(st.st_mode) || (long long)st.st_dev != dev ||
            (long long)st.st_ino != ino || (long long)st.st_size != size || ns(ST_MTIM(st)) != mt ||
            ns(ST_CTIM(st)) != ct)
            MISS("file changed");
    } else if (strcmp(tag, "nofile") == 0 && n == 2) {
        if (stat(f[1], &st) == 0 ? S_ISREG(st.st_mode) : !gone()) MISS("new spec file");
    } else if (strcmp(tag, "absent") == 0 && n == 2) {
        if (stat(f[1], &st) == 0 || !gone()) MISS("new file");
    } else if (strcmp(tag, "exists") == 0 && n == 2) {
        if (stat(f[1], &st)) MISS("barrier gone");
    } else if (strcmp(tag, "interpreter") == 0 && n == 3) {
        h->interp_id = f[1];
        h->interp_path = f[2];
    } else if (strcmp(tag, "exec") == 0 && n == 2) {
        /* An env key is hex (fastpath.Pointer.load): never a path, a dot-file or a work dir. */
        if (!f[1][0] || strspn(f[1], "0123456789abcdef") != strlen(f[1])) MISS("index entry unreadable");
        h->env_key = f[1];
    } else if (strcmp(tag, "end") == 0 && n == 1) {
        h->have_end = 1;
    } else {
        MISS("index entry unreadable");
    }
    return 0;
}

static int check_entry(char *data, struct hit *h) {
    char *save = NULL;
    char *line = strtok_r(data, "\n", &save);
    if (!line || strcmp(line, INDEX_MAGIC)) MISS("index entry of another format");
    while ((line = strtok_r(NULL, "\n", &save))) {
        if (h->have_end) MISS("index entry unreadable");
        char *f[MAX_FIELDS];
        int n = split_fields(line, f);
        if (n <= 0) MISS("index entry unreadable");
        if (check_record(f, n, h)) return -1;
    }
    if (!h->have_end || !h->env_key || !h->interp_path) MISS("index entry unreadable");
    return 0;
}

/* ---------------------------------------------------------------- the env */

/* vpython/env/fastpath.py interpreter_id + lookup: the env's lock taken shared without
 * blocking (GC holds it exclusively while it deletes), then checked to be the file now
 * at that path and the env complete under it. Returns the fd (inheritable: held by the
 * script until it exits) or -1. */
static int hold_env(const struct hit *h, const char *env_dir, const char *lock) {
    struct stat st, st2;
    if (stat(h->interp_path, &st)) MISS("interpreter gone");
    char id[96];
    snprintf(id, sizeof id, "%lld:%lld:%llu", (long long)st.st_size, ns(ST_MTIM(st)),
             (unsigned long long)st.st_ino);
    if (strcmp(id, h->interp_id)) MISS("interpreter replaced");
    int fd = open(lock, O_RDWR | O_CREAT, 0644);
    if (fd < 0) fd = open(lock, O_RDONLY); /* a read-only root: flock works on it too */
    if (fd < 0) MISS("env lock cannot be opened");
    if (flock(fd, LOCK_SH | LOCK_NB)) {
        close(fd);
        MISS("env busy (gc)");
    }
    if (fstat(fd, &st) || stat(lock, &st2) || st.st_dev != st2.st_dev || st.st_ino != st2.st_ino) {
        close(fd);
        MISS("env lock replaced");
    }
    char *cfg = join(env_dir, "pyvenv.cfg");
    int present = stat(cfg, &st) == 0;
    free(cfg);
    if (!present) {
        close(fd);
        MISS("env gone");
    }
    utimensat(AT_FDCWD, lock, NULL, 0); /* last use; a read-only root just keeps its time */
    return fd;
}

static int name_is(const char *entry, const char *name) {
    size_t n = strlen(name);
    return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

/* vpython/env/execute.py child_environ, over os.environ as CPython builds it (entries
 * without '=' dropped, the first of duplicate names kept), with the launcher's own
 * variable gone as the Python path pops it. Replaced names keep their place, new ones
 * come last, as in a dict. */
static char **child_environ(const char *env_dir, const char *bin) {
    size_t n = 0;
    while (environ[n]) n++;
    char **out = calloc(n + 4, sizeof(char *));
    if (!out) die_oom();
    const char *path = getenv("PATH");
    char *new_path = path && *path ? cat3(bin, ":", path) : strdup(bin);
    char *sets[3] = {strdup("PYTHONNOUSERSITE=1"), cat3("VIRTUAL_ENV", "=", env_dir),
                     cat3("PATH", "=", new_path)};
    const char *set_names[3] = {"PYTHONNOUSERSITE", "VIRTUAL_ENV", "PATH"};
    int placed[3] = {0, 0, 0};
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *e = environ[i];
        const char *eq = strchr(e, '=');
        if (!eq || eq == e) continue;
        size_t nl = (size_t)(eq - e);
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = strncmp(environ[j], e, nl + 1) == 0;
        if (dup) continue;
        if (name_is(e, "PYTHONHOME") || name_is(e, "__PYVENV_LAUNCHER__") || name_is(e, MISS_ENV)) continue;
        int replaced = 0;
        for (int s = 0; s < 3; s++) {
            if (name_is(e, set_names[s])) {
                out[k++] = sets[s];
                placed[s] = replaced = 1;
            }
        }
        if (!replaced) out[k++] = (char *)e;
    }
    for (int s = 0; s < 3; s++)
        if (!placed[s]) out[k++] = sets[s];
    out[k] = NULL;
    free(new_path);
    return out;
}

/* ---------------------------------------------------------------- main */

static int contains(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

/* The warm run, or -1 (g_miss set) to hand off. Does not return on success. */
static int warm(int argc, char **argv) {
    int n = argc - 1;
    char **args = argv + 1;
    const char *target;
    g_miss = "not a plain run"; /* replaced below once the run is one the index can serve */
    enum kind kind = parse_python_argv(n, args, &target);
    if (kind == K_ERROR || kind == K_NONE) {
        g_miss = NULL; /* python's own error, or interactive (a banner): the Python path's */
        return -1;
    }
    /* An inline spec in a -c command is the Python path's: the index has no entry for it
     * (the markers are what vpython/spec/inline.py looks for first). */
    if (kind == K_COMMAND && (contains(target, "# /// script") || contains(target, "[VPYTHON:BEGIN]"))) {
        g_miss = NULL;
        return -1;
    }
    g_miss = "no index entry";
    if (getenv("VPYTHON_SHARED_ROOT")) MISS("shared root (the Python path checks it)");
    char *root = resolve_root();
    if (!root) MISS("cache root not resolvable here");
    struct stat rst;
    if (lstat(root, &rst) && gone()) MISS("no index entry"); /* first run: nothing cached yet */
    if (!trusted_root(root)) MISS("cache root not private (the Python path checks it)");
    buf key = {0};
    if (kind == K_SCRIPT) {
        char *abs = abspath(target);
        if (!abs) MISS("no working directory");
        b_str(&key, "script ");
        b_str(&key, abs);
        free(abs);
    } else {
        if (!cwd()) MISS("no working directory");
        b_str(&key, "cwd ");
        b_str(&key, g_cwd);
    }
    struct utsname u;
    if (uname(&u)) MISS("uname failed");
    uint64_t hash = 0xcbf29ce484222325ULL;
    hash = fnv1a(VPY_PLATFORM " ", strlen(VPY_PLATFORM) + 1, hash);
    hash = fnv1a(u.machine, strlen(u.machine), hash);
    hash = fnv1a("\n", 1, hash);
    hash = fnv1a(key.p, key.n, hash);
    char name[32];
    snprintf(name, sizeof name, "%016llx", (unsigned long long)hash);
    char *v1 = join(root, "v" VPY_FORMAT);
    char *dir = join(v1, "launch");
    struct stat dst;
    if (lstat(dir, &dst) && gone()) MISS("no index entry");
    if (!private_dir(v1) || !private_dir(dir)) MISS("cache directory not private (the Python path checks it)");
    char *entry_path = join(dir, name);
    char *data = read_entry(entry_path);
    if (!data) MISS("no index entry");
    struct hit h = {root, key.p, NULL, NULL, NULL, 0};
    if (check_entry(data, &h)) return -1;

    char *envs = join(v1, "envs");
    char *env_dir = join(envs, h.env_key);
    struct stat est;
    if (lstat(env_dir, &est) && gone()) MISS("env gone");
    if (!private_dir(envs) || !private_dir(env_dir)) MISS("env directory not private (the Python path checks it)");
    char *lock = cat3(env_dir, ".lock", "");
    char *bin = join(env_dir, "bin");
    char *python = join(bin, "python");
    int fd = hold_env(&h, env_dir, lock);
    if (fd < 0) return -1;
    char **env = child_environ(env_dir, bin);
    char **pargv = calloc((size_t)argc + 1, sizeof(char *));
    if (!pargv) die_oom();
    pargv[0] = python;
    for (int k = 1; k < argc; k++) pargv[k] = argv[k];
    execve(python, pargv, env);
    close(fd);
    MISS("exec of the env's python failed");
}

static int nonempty(const char *s) { return s && *s; }

int main(int argc, char **argv) {
    if (argc < 2 || in_list(argv[1], SUBCOMMANDS) || is_vpython_flag(argv[1]) ||
        getenv("VPYTHON_BYPASS") || nonempty(getenv("VPYTHON_LOG_TRACE")))
        handoff(argv);
    warm(argc, argv);
    handoff(argv);
}
