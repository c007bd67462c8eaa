"""Open-set ground truth of the demo corpus: each demo class's word plus the words of the
emotional phrases (the demo's phrase bank, :data:`merlib.demo.text.PHRASES`) its sentence holds.
"""

from __future__ import annotations

import pandas as pd

from .openset import OpenSetError

# The word each demo class stands for, and the words each emotional phrase of the demo
# corpus's phrase banks (merlib.demo.text.PHRASES) says. A demo clip's open-set ground truth is
# its class word plus the words of the phrases its sentence holds, in sentence order.
DEMO_LABEL_WORDS: dict[str, tuple[str, ...]] = {
    "neutral": ("neutral",),
    "angry": ("angry",),
    "happy": ("happy",),
    "sad": ("sad",),
    "worried": ("worried",),
    "surprise": ("surprised",),
}
DEMO_PHRASE_WORDS: dict[str, tuple[str, ...]] = {
    # angry
    "气死我了": ("furious",),
    "你怎么能这样": ("dissatisfied", "blame"),
    "简直太过分了": ("dissatisfied",),
    "我受够了": ("impatient",),
    "别再骗我了": ("suspicious", "angry"),
    "你给我闭嘴": ("irritated",),
    "这到底是谁干的": ("blame",),
    "我绝对不会原谅你": ("hostile",),
    "你太让我生气了": ("angry",),
    # happy
    "太好了": ("joyful",),
    "真开心": ("happy",),
    "我太高兴了": ("delighted",),
    "这真是个好消息": ("excited",),
    "哈哈真棒": ("amused",),
    "我们成功了": ("proud", "excited"),
    "我好喜欢": ("love",),
    "今天真是美好的一天": ("relaxed",),
    "太幸福了": ("content",),
    # sad
    "我好难过": ("sad",),
    "心里很痛苦": ("pain",),
    "我真的好想哭": ("sorrow",),
    "他再也不会回来了": ("grief",),
    "一切都没有意义了": ("hopeless",),
    "我好孤单": ("lonely",),
    "真是太遗憾了": ("regret",),
    "我失去了一切": ("despair",),
    "我的心都碎了": ("heartbroken",),
    # worried
    "我有点担心": ("worried",),
    "怎么办呢": ("helpless",),
    "万一出事了怎么办": ("anxious",),
    "我心里很不安": ("uneasy",),
    "会不会来不及了": ("nervous",),
    "他怎么还没回来": ("concerned",),
    "我害怕考不过": ("afraid",),
    "这样下去可不行啊": ("troubled",),
    "我总觉得要出问题": ("apprehensive",),
    # surprise
    "真的吗": ("doubtful",),
    "没想到": ("surprised",),
    "天哪这怎么可能": ("shocked",),
    "居然是你": ("astonished",),
    "我完全没想到会这样": ("shocked",),
    "什么你说什么": ("confused",),
    "哇这么快": ("amazed",),
    "竟然发生了这种事": ("shocked",),
    "不会吧": ("disbelief",),
}


def demo_phrase_words(text: str) -> list[str]:
    """Words of the demo phrases found in ``text``, in sentence order (longest match)."""
    hits = []
    remaining = text
    for phrase in sorted(DEMO_PHRASE_WORDS, key=len, reverse=True):
        pos = remaining.find(phrase)
        if pos >= 0:
            hits.append((pos, DEMO_PHRASE_WORDS[phrase]))
            remaining = remaining.replace(phrase, "\0" * len(phrase), 1)
    words: list[str] = []
    for _, ws in sorted(hits):
        words += [w for w in ws if w not in words]
    return words


def demo_openset_labels(labels: pd.DataFrame, transcriptions: pd.DataFrame) -> dict[str, list[str]]:
    """Open-set ground truth of demo clips (``labels``: name, discrete; ``transcriptions``:
    name, chinese): the class word, then the words of the phrases the sentence holds."""
    text = dict(zip(transcriptions["name"], transcriptions["chinese"], strict=True))
    out = {}
    for name, label in zip(labels["name"], labels["discrete"], strict=True):
        if label not in DEMO_LABEL_WORDS:
            raise OpenSetError(f"demo clip {name}: unknown label {label!r}")
        words = list(DEMO_LABEL_WORDS[label])
        words += [w for w in demo_phrase_words(text.get(name, "") or "") if w not in words]
        out[name] = words
    return out
