"""Trouble a customer describes: the bad situation, not the tone it is told in.

"My parcel hasn't moved since Monday", "the mug arrived in pieces", "电表余额用完了" and "上课上到
一半掉线了" carry no angry word, yet a person reading them calls the customer's mood negative —
and so do the evaluation sets' writers.  The sentiment scorer reads tone words; this module finds
the situation, so a message that describes one is labelled negative even when it is said calmly,
and the interest tagger knows a report about a thing from an interest in it
(:func:`parley.bots.tag_cues.problem_cue` adds complaint and undo words to these).

A situation only ever makes a message *mildly* negative (``SentimentScorer`` never lets it make one
strong): being in trouble is not being angry, and only anger hands a conversation over.  A negated
("nothing was broken", 没坏) or hypothetical ("what if it gets lost?") situation does not count.

The cues are written from what goes wrong in any service business — broken, lost, late, charged
wrongly, locked out, cut off, cannot pay, ill or hurt, misunderstood — in general language, not one business's.
"""

from __future__ import annotations

import re

__all__ = ["trouble_cues"]

_EN = "|".join(
    [
        # broken, damaged, dirty
        r"broken|broke|crushed|smashed|cracked|shattered|in (?:pieces|bits)|damaged?|torn|ripped|"
        r"faulty|fault|defect\w*|leak(?:s|ing|ed)?|dirty|filthy|mou?ldy|rotten|spoil(?:ed|t)|out of order",
        # does not fit (a garment, a part, a piece of furniture)
        r"(?:doesn'?t|does not|don'?t|didn'?t) fit|unwearable",
        # lost, missing, wrong
        r"lost|missing|stolen|wrong|mistake|error",
        # not working, cannot get in
        r"(?:not|isn'?t|doesn'?t|does not|won'?t|didn'?t|stopped|never) "
        r"(?:working|work|turning on|charging|loading|connecting)",
        r"(?:can'?t|cannot|unable to) (?:log ?in|sign in|get in|access|connect|open|use|find|afford|pay)",
        r"locked out|stuck|keeps? (?!using|going)\w+ing|kicks? (?:me|us) out|crash(?:ed|es|ing)?",
        # late, never came
        r"(?:is|was|were|are|running|arrived|came|always|so|too) late|delayed",
        r"(?:hasn'?t|has not|haven'?t|have not|never|didn'?t|did not|still not|still hasn'?t) "
        r"(?:arrived?|come|turned up|shown up|showed up|show(?:ed)? up|moved|updated|been (?:delivered|refunded|fixed))",
        r"no[- ]show|never showed|still waiting|no sign of",
        # called off or moved by someone else ("the show got cancelled", not "I cancelled it")
        r"(?:got|was|were|been|is|are) (?:cancell?ed|called off|postponed|rescheduled|moved)|postponed",
        # money taken wrongly, payments failing
        r"(?:charged|billed) (?:twice|double|two times)|double[- ]charged|overcharg\w*|"
        r"declined|bounced|fail(?:ed|s|ure)?|expired|ran out|run out",
        # cut off
        r"cut off|went dark|power cut|no (?:power|heating|hot water|signal|internet|sound|video|reply|response)",
        # illness and injury (of the customer, a child, a pet)
        r"sick|vomit\w*|throw(?:s|ing)? up|threw up|bleed\w*|swollen|swelling|infect\w*|injur\w*|hurts?|"
        r"hurting|pain(?:ful)?|fever|limp(?:s|ing)?|diarrh\w*|rash|won'?t eat|emergency",
        # the customer's own state
        r"panick(?:ing|ed)|worried|scared|stressed|struggling|desperate|urgent|pressured|accident|write[- ]off",
        # misunderstood by the bot
        r"going (?:round|around) in circles|(?:isn'?t|not) (?:getting|understanding) it|missing the point|"
        r"doesn'?t understand",
    ]
)
_ZH = "|".join(
    [
        r"坏了|坏掉|摔坏|损坏|碎了|破了|破损|裂了|故障|失灵|脏|发臭|发霉|变质|烂了|漏水|漏电",
        r"不合身|穿不了|穿不下",
        r"丢了|丢失|弄丢|被偷|少了|漏送|送错|发错|寄错|填错|错了|弄错",
        r"不能用|用不了|打不开|登不上|登录不了|进不去|连不上|没反应|卡住|卡死|卡了|掉线|断网|停电|没电|没信号",
        r"[进用登约收连打开充付取寄看听]不(?:了|上|到|开)|[打接拨连]不通|没(?:有)?人(?:理|联系|联络|回复|回|接)",
        r"没到|没收到|还没到|没到账|一直没|一直显示|没更新|延误|迟到|太慢|晚了|没赶上|错过|没来|没出现|放鸽子|爽约|临时取消",
        r"被取消|(?<![我们])(?<!已经)取消了|延期了|推迟了|改期了|不(?:太)?干净",
        r"多扣|扣错|扣了两次|重复扣|扣款失败|支付失败|失败了|过期了|用完了|欠费|停机",
        r"交不起|付不起|失业|着急|急死|担心|害怕|慌|听不懂|答非所问|涨价|涨了|追尾|蹭了|撞了|事故|全损",
        r"生病|病了|吐了|一直吐|呕吐|拉稀|拉肚子|腹泻|发烧|流血|出血|受伤|伤口|肿了|红肿|发炎|感染|疼|痛(?!快)|"
        r"误诊|咬伤|被咬|急诊",
    ]
)
_CUES = re.compile(rf"\b(?:{_EN})\b|{_ZH}", re.IGNORECASE)
# A cue right after a negation is no trouble: "nothing was broken", "not lost", "没坏", "不急".
_NEGATED = re.compile(r"(?:\b(?:not|no|nothing|never|none)\s+(?:\w+\s+)?$|[没不别未无]\s*$)", re.IGNORECASE)
_HYPOTHETICAL = re.compile(r"\b(?:what if|in case|if (?:it|they|my|the|i)\b)|如果|万一|假如|要是|以防")


def trouble_cues(text: str) -> tuple[str, ...]:
    """The situation words of ``text`` ("lost", "没收到"); empty when it describes no trouble."""
    if _HYPOTHETICAL.search(text):
        return ()
    return tuple(
        m.group().lower()
        for m in _CUES.finditer(text)
        if not _NEGATED.search(text[max(0, m.start() - 16) : m.start()])
    )
