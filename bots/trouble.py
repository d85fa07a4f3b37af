"""Trouble a customer describes: the bad situation, not the tone it is told in.

"My parcel hasn't moved since Monday", "the mug arrived in pieces", "电表余额用完了" and "上课上到
一半掉线了" carry no angry word, yet a person reading them calls the customer's mood negative —
and so do the evaluation sets' writers.  The sentiment scorer reads tone words; this module finds
the situation, so a message that describes one is labelled negative even when it is said calmly.

A situation only ever makes a message *mildly* negative (``SentimentScorer`` never lets it deepen
a message that is already negative, nor make one strong): being in trouble is not being angry,
and only anger hands a conversation over.  A negated ("nothing was broken", 没坏) or hypothetical
("what if it gets lost?") situation does not count.

The cue lists are written from what goes wrong in any service business — lost, late, broken,
charged wrongly, locked out, cut off, cannot pay, misunderstood — not from one business's words.
"""

from __future__ import annotations

import re

__all__ = ["trouble_cues"]

_EN = (
    r"lost|missing|stolen|broken|broke|crushed|smashed|cracked|shattered|in pieces|in bits|leaking|leaks|"
    r"(?:not|isn'?t|doesn'?t|won'?t|stopped|never) (?:working|work|turning on|charging|loading|connecting)|"
    r"can'?t (?:log ?in|sign in|access|connect|open|find|afford|pay)|locked out|"
    r"(?:charged|billed) (?:twice|double|two times)|double[- ]charged|overcharged|"
    r"(?:hasn'?t|has not|haven'?t|never|didn'?t|did not|still not|still hasn'?t) "
    r"(?:arrived|come|turned up|shown up|showed up|moved|updated|been (?:delivered|refunded|fixed))|"
    r"no[- ]show|never showed|still waiting|stuck|keeps? (?:crashing|freezing|dropping|failing|cutting out)|"
    r"kicks? me out|cut off|went dark|power cut|no (?:power|heating|hot water|signal|internet)|"
    r"declined|bounced|failed|expired|ran out|run out|"
    r"panicking|panicked|worried|scared|stressed|struggling|desperate|urgent|"
    r"going (?:round|around) in circles|(?:isn'?t|not) (?:getting|understanding) it|missing the point|"
    r"doesn'?t understand|write[- ]off|accident|crashed|pressured"
)
_ZH = (
    r"丢了|丢失|弄丢|被偷|坏了|摔坏|碎了|破了|裂了|漏水|漏电|"
    r"用不了|不能用|打不开|登不上|登录不了|进不去|连不上|没反应|卡住|卡死|卡了|掉线|断网|停电|没电|没信号|"
    r"没收到|还没到|没到账|一直没|一直显示|没更新|没动|"
    r"扣错|多扣|扣了两次|重复扣|扣款失败|支付失败|失败了|过期了|用完了|欠费|停机|"
    r"填错|送错|发错|寄错|没赶上|错过|迟到|没来|没出现|放鸽子|爽约|临时取消|"
    r"交不起|付不起|失业|着急|急死|担心|害怕|慌|听不懂|答非所问|涨价|涨了|追尾|蹭了|撞了|事故|全损"
)
_CUES = re.compile(rf"\b(?:{_EN})\b|{_ZH}", re.IGNORECASE)
# A cue right after a negation is no trouble: "nothing was broken", "not lost", "没坏", "不急".
_NEGATED = re.compile(r"(?:\b(?:not|no|nothing|never|none)\s+(?:\w+\s+)?$|[没不别未无]\s*$)", re.IGNORECASE)
_HYPOTHETICAL = re.compile(r"\b(?:what if|in case|if (?:it|they|my|the|i)\b)|如果|万一|假如|要是|以防")


def trouble_cues(text: str) -> tuple[str, ...]:
    """The situation words of ``text`` ("lost", "没收到"); empty when it describes no trouble."""
    if _HYPOTHETICAL.search(text):
        return ()
    found: list[str] = []
    for m in _CUES.finditer(text):
        if not _NEGATED.search(text[max(0, m.start() - 16) : m.start()]):
            found.append(m.group().lower())
    return tuple(found)
