"""The LLM model server (llama.cpp, OpenAI-compatible) and the one client for any such server.

``client`` is all the application imports: :class:`LLMClient` talks to vLLM in
production and to the embedded server (``python -m model_servers.llm``,
started by ``process.EmbeddedLLMServer``) in development. The server modules
import ``llama_cpp``, which only the ``local-llm`` extra installs, so nothing
here imports them eagerly.
"""

from model_servers.llm.client import LLMClient, LLMError

__all__ = ["LLMClient", "LLMError"]
