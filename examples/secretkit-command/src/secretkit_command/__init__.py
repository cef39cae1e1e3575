"""secretkit-command: a secretkit backend that runs a command to read each secret.

Configure it like any backend; the plugin registers the type ``command``::

    argv = ["pass", "show", "{name}"]
    SecretClient(backends={"pass": {"type": "command", "argv": argv}})

``await client.get("pass://db/main")`` then runs ``pass show db/main`` and returns
what it printed. See :mod:`secretkit_command.backend` for the options and errors.
"""
