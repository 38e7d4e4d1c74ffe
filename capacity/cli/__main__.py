"""``python -m capacity.cli``: the ``capacity`` command, as ``python -m capacity`` runs it."""

from capacity.cli import main

if __name__ == "__main__":
    main()
