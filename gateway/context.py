"""The context-window rule shared by the embedded engine and the recorder.

A prompt counts as truncated when `prompt_eval_count` reaches `num_ctx` less a small margin;
the embedded engine cuts over-long prompts to exactly that size, so both sides agree.
"""

from __future__ import annotations


def context_margin(num_ctx: int) -> int:
    """Tokens kept free at the end of the window: max(8, 1% of num_ctx)."""
    return max(8, num_ctx // 100)


def is_truncated(prompt_eval_count: int | None, num_ctx: int | None) -> bool:
    """Whether a prompt of `prompt_eval_count` tokens filled a `num_ctx` window."""
    if not prompt_eval_count or not num_ctx:
        return False
    return prompt_eval_count >= num_ctx - context_margin(num_ctx)
