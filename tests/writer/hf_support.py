"""A tiny, randomly initialised GPT-2 with a word-level tokenizer, built in code: no hub."""

from __future__ import annotations

import random
from typing import Any

WORDS = [
    *("the", "a", "cat", "dog", "sat", "on", "mat", "ran", "fast", "slow", "big", "small"),
    *("red", "blue", "yes", "no", "good", "bad"),
]


def tokenizer() -> Any:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[PAD]": 0, "[UNK]": 1, "[EOS]": 2, **{w: i + 3 for i, w in enumerate(WORDS)}}
    core = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token="[PAD]",
        unk_token="[UNK]",
        eos_token="[EOS]",
        padding_side="left",
    )


def model(vocab_size: int, seed: int = 0) -> Any:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=vocab_size,
        n_positions=64,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=2,
        eos_token_id=2,
        pad_token_id=0,
    )
    return GPT2LMHeadModel(config)


def sentences(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS[:14]) for _ in range(12)) for _ in range(n)]


class LMDataset:
    """Causal-LM examples (labels = inputs) as the Trainer wants them."""

    def __init__(self, tok: Any, texts: list[str]) -> None:
        encoded = tok(
            texts, padding="max_length", max_length=16, truncation=True, return_tensors="pt"
        )
        self.ids = encoded["input_ids"]
        self.mask = encoded["attention_mask"]

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"input_ids": self.ids[i], "attention_mask": self.mask[i], "labels": self.ids[i]}


def kto_rows(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Unpaired preference data: desirable completions say "yes good"."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        prompt = " ".join(rng.choice(WORDS[:14]) for _ in range(6))
        good = i % 2 == 0
        rows.append(
            {"prompt": prompt, "completion": " yes good" if good else " no bad", "label": good}
        )
    return rows
