"""A local module of the example (a `srcs` file beside `main`)."""


def make_greeting(escape, who):
    return "Hello, %s!" % escape(who)
