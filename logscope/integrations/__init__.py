"""Adapters for training frameworks; each imports its framework, so import them explicitly
(`from logscope.integrations.hf import LogscopeCallback`)."""
