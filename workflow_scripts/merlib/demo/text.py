"""Sentences carrying an emotion in their wording: per-emotion phrase banks, neutral
filler and per-emotion end punctuation."""

from __future__ import annotations

import numpy as np

PHRASES: dict[str, tuple[str, ...]] = {
    "neutral": (
        "今天下午三点开会",
        "我刚从公司回来",
        "明天要去银行办事",
        "文件放在桌子上了",
        "我们下周再讨论",
        "火车八点出发",
        "把窗户关一下",
        "晚饭吃面条吧",
        "图书馆九点开门",
        "她明天去上海出差",
        "这条路往左拐",
        "会议室在三楼",
        "我在路上看到他了",
        "报告写完了",
    ),
    "angry": (
        "气死我了",
        "你怎么能这样",
        "简直太过分了",
        "我受够了",
        "别再骗我了",
        "你给我闭嘴",
        "这到底是谁干的",
        "我绝对不会原谅你",
        "你太让我生气了",
    ),
    "happy": (
        "太好了",
        "真开心",
        "我太高兴了",
        "这真是个好消息",
        "哈哈真棒",
        "我们成功了",
        "我好喜欢",
        "今天真是美好的一天",
        "太幸福了",
    ),
    "sad": (
        "我好难过",
        "心里很痛苦",
        "我真的好想哭",
        "他再也不会回来了",
        "一切都没有意义了",
        "我好孤单",
        "真是太遗憾了",
        "我失去了一切",
        "我的心都碎了",
    ),
    "worried": (
        "我有点担心",
        "怎么办呢",
        "万一出事了怎么办",
        "我心里很不安",
        "会不会来不及了",
        "他怎么还没回来",
        "我害怕考不过",
        "这样下去可不行啊",
        "我总觉得要出问题",
    ),
    "surprise": (
        "真的吗",
        "没想到",
        "天哪这怎么可能",
        "居然是你",
        "我完全没想到会这样",
        "什么你说什么",
        "哇这么快",
        "竟然发生了这种事",
        "不会吧",
    ),
}
ENDINGS: dict[str, str] = {
    "neutral": "。",
    "angry": "！",
    "happy": "！",
    "sad": "。",
    "worried": "。",
    "surprise": "？",
}


def make_sentence(label: str, rng: np.random.Generator, n_emotion: int = 1) -> str:
    """A sentence carrying ``label`` in its wording.

    ``n_emotion`` emotion phrases (1: plus one neutral filler phrase, 2: two emotion
    phrases); neutral sentences are two filler phrases.
    """
    filler = PHRASES["neutral"]
    if label == "neutral" or n_emotion <= 0:
        i, j = rng.choice(len(filler), size=2, replace=False)
        parts = [filler[i], filler[j]]
        return "，".join(parts) + ENDINGS["neutral"]
    bank = PHRASES[label]
    if n_emotion >= 2:
        i, j = rng.choice(len(bank), size=2, replace=False)
        parts = [bank[i], bank[j]]
    else:
        parts = [bank[int(rng.integers(len(bank)))], filler[int(rng.integers(len(filler)))]]
        if rng.random() < 0.4:
            parts.reverse()
    return "，".join(parts) + ENDINGS[label]
