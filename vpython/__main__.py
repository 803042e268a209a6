from vpython.cli.main import main

raise SystemExit(main())
