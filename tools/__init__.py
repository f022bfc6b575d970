"""Capabilities the agent and the API use, one package each (``profile`` today).

``base`` holds the tool contract (typed arguments, ``ToolResult`` with facts and
cards, errors as messages), ``registry`` the explicit list of tools. Tools know no
HTTP and never call the agent; they reach stores through ``storage``.
"""
