"""Capabilities the agent and the API use, one package each (``profile`` today).

Tools know no HTTP and never call the agent; they reach stores through ``storage``.
"""
