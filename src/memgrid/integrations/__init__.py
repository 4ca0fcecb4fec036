"""Thin layers over the public SDK for agent frameworks, each behind its own extra:
`langgraph` (a `BaseStore`), `langchain` (a retriever and a chat history), `llamaindex` (a
memory block), `openai_agents` (a session). Import the module you need; none is imported here."""
