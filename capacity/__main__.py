"""``python -m capacity``: the command line, as the ``capacity`` console script."""

from capacity.cli import main

if __name__ == "__main__":
    main()
