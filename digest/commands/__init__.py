"""Every ``digest`` command, one module per area; :mod:`digest.cli` loads a command's module
only when that command runs."""
