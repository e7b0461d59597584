"""Embedders: the local default (wordllama) and OpenAI / Azure OpenAI."""
