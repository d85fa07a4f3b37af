"""What names a person without asking for one: the guards :mod:`.handoff` applies first.

A message can name an agent and still ask the bot something: whether a person is needed ("do I
need to talk to someone to cancel?"), a contact that already happened ("找过客服"), a request
declined ("no need for a human"), a choice of channel ("is it a real person or a bot?") or
another provider ("can I switch to someone else?" of a teacher).  Each pattern here matches that
part of a normalised message (lower case, Simplified, punctuation folded to spaces), which
:class:`~.handoff.HandoffDetector` cuts out before it looks for a request.
"""

from __future__ import annotations

import re

__all__ = [
    "ASKS_IF_NEEDED",
    "CHANNEL_CHOICE",
    "DECLINED",
    "EN_HUMAN",
    "NARRATED_PAST",
    "PROVIDER",
    "REPLACEMENT",
]

#: Whom a customer may ask for: a person, an agent, staff, a manager (an article first or not);
#: :mod:`.handoff` looks for requests aimed at them, the guards here for mentions that ask none.
EN_HUMAN = (
    r"(?:a |an |the |some |your |one of your |a real |a live |real |live |actual |an actual )?"
    r"(?:human(?: being)?s?|person|people|ppl|someone|somebody|agent|representative|rep|operator|"
    r"staff(?: member)?|manager|supervisor|customer (?:service|support|care)(?: rep(?:resentative)?| agent| team)?|"
    r"support (?:team|agent|staff)|real one|team member|member of (?:staff|(?:the|your) team)|employee|live chat)"
)
# Asking whether a person is *needed* is a question for the bot, not a request — whoever the
# subject is: "do I need to speak to someone to activate it?", "does my son have to talk to
# someone at reception?", "is it necessary to call an agent?", "can my wife talk to a trainer
# first?", "if we ever need to talk to a person, what number do we ring?", "需要先找工作人员登记吗".
_SUBJECT = r"(?:i|we|you|he|she|they|one|it|guests?|visitors?|members?|(?:my|our|the|a|your|his|her|their) \w+(?: \w+)?)"
_CONTACT = r"(?:first )?(?:(?:go|come|pop) (?:in |down |over )?(?:and )?)?(?:talk|speak|call|chat|contact|go through|see|check in with|ask)"
#: Whom a customer may be told to go through: an agent, the front desk, a manager.
_ZH_STAFF = r"(?:人工|真人|活人|客服|工作人员|前台|店员|经理|主管)"
_ZH_ONLY_THROUGH = rf"(?:找|联系|打给|通过)(?:一下)?{_ZH_STAFF}[^，。！？,]{{0,6}}才(?:能|可以|行)"
# …or a person to ask, closing the question: "会算等候费吗？还是要找人工客服问？"
_ZH_THROUGH_TO_ASK = (
    rf"(?:找|联系|打给|问)(?:一下)?(?:你们的?)?{_ZH_STAFF}(?:客服)?"
    r"(?:问|问问|确认|处理|办|解决)?(?:一下|下)?(?:吗|么|呢)?\s*$"
)
ASKS_IF_NEEDED = re.compile(
    rf"\b(?:do|does|did|will|would|must|should|shall) {_SUBJECT} (?:(?:still|also|first|ever|really|actually|seriously) )?"
    rf"(?:need|have|has|got) to {_CONTACT}\b|"
    rf"\bis (?:it|there) (?:necessary|required|a need|any need|mandatory) to {_CONTACT}\b|"
    rf"\b(?:can|could|may) (?:he|she|they|(?:my|our|his|her|their) \w+(?: \w+)?) (?:talk|speak|chat)\b|"
    rf"\bif {_SUBJECT} (?:ever |later |still )?(?:need|want|have) to {_CONTACT}\b.*\b(?:how|what|where|who|which|is|do|can)\b|"
    # a way to reach someone asked about for a situation that may come: "is there a number I can
    # call to speak to someone if the car breaks down?", "who do we ring in case the boiler fails?"
    r"\b(?:is there|are there|do you have|what(?:'s| is)|which|who do|who should|how do|how can)\b[^?]{0,60}?"
    r"\b(?:number|phone|hotline|line|contact|someone|somebody|anyone|anybody|person|call|ring)\b[^?]{0,50}?"
    r"\b(?:if (?!not\b|possible\b|you\b|that'?s?\b|so\b|this\b|u\b)|in case\b|should (?:the|my|our|it|we|i)\b|whenever\b)|"
    r"(?:如果|万一|要是|假如)[^。？！?]{0,20}(?:找|联系|打给?)(?:谁|人工|客服|工作人员)|"
    r"(?:需要|要不要|是否需要|必须|一定要|得|要)(?:先|再|也|还|另外)?(?:去|打(?:个)?电话|电话|当面|亲自|到店|到现场)?"
    r"(?:找|联系|打给|通过)(?:一下)?"
    rf"{_ZH_STAFF}[^，。！？,]*(?:吗|么|还是|呢)|"
    # a person as the condition of a change: "要找真人客服才能改证件号码吗", "是不是得联系客服才可以退"
    rf"{_ZH_ONLY_THROUGH}[^，。！？,]*(?:吗|么|还是|呢)|(?:是不是|是否)[^，。！？,]{{0,4}}{_ZH_ONLY_THROUGH}|"
    # …or as the second half of a question: "会补回来吗？还是要打电话找真人客服才能安排？"
    r"(?:吗|么|呢)[\s，,]*还是\s*(?:说)?(?:一定|必须|只能|非得|都|需要|要|得)*\s*(?:先|再)?"
    rf"(?:去|打(?:个)?电话|当面|亲自)?(?:{_ZH_ONLY_THROUGH}|{_ZH_THROUGH_TO_ASK})"
)
# Chinese marks a contact that already happened with the experiential 过, where English changes
# the verb ("I spoke to your manager" matches no request form): "上次找你们经理问过", "找过客服",
# "跟客服说过了" narrate, they do not ask.  "叫经理过来" (call the manager over) is a request.
_ZH_NOUN_PAST = r"(?:经理|主管|客服|人工|工作人员|真人|售后)"
NARRATED_PAST = re.compile(
    rf"(?:找|问|联系|打给|叫|请|跟|和)过\s*(?:你们的?|一下|个|一个)?\s*{_ZH_NOUN_PAST}|"
    r"(?:找|问|联系|叫|请|跟|和)\s*(?:你们的?|一下|个|一个)?\s*"
    rf"{_ZH_NOUN_PAST}\s*(?:问|说|聊|讲|反映|沟通|谈|联系|确认)?过(?![来去])"
)
# A request the customer says they are *not* making is cut out like a narrated one: "I don't
# need to speak to an agent, just tell me…", "no need for a human", "不用转人工，我就想问…",
# "不需要找客服". Only a negation aimed at the person: "I don't want a bot, get me a human" asks.
DECLINED = re.compile(
    r"\b(?:(?:do ?n[o']?t|does ?n[o']?t|won'?t|will not|not) (?:really |even )?(?:need|want|have|wish|ask(?:ing)?(?: for)?)"
    r"(?: to)?(?: (?:talk|speak|chat|be (?:transferred|put through|connected)|get|bother|trouble|disturb)(?: to| with| through to)?)?|"
    r"no need (?:to (?:talk|speak|chat) (?:to|with)|for)|without (?:talking|speaking|chatting|going through)(?: to| with)?|"
    r"do ?n[o']?t (?:transfer|connect|put) me(?: through)? to) "
    rf"{EN_HUMAN}\b|"
    r"(?:不用|不需要|不必|无需|没必要|用不着|不是要|别|不要|不想再?(?:麻烦|打扰)?|唔使|唔洗|唔想)\s*(?:帮我|给我)?\s*(?:转接?|接通?|找|揾|联系|叫)?\s*(?:到|给)?\s*(?:你们的?)?\s*"
    r"(?:人工|真人|客服|工作人员|经理)(?:客服|服务)?"
)
# Asking *which channel* handles something names a person as one of two ways, not as a request:
# "do I speak to a human for a refund or just fill in the form online?", "is it a real person
# or a bot?", "退货是找人工客服办还是自己在小程序上操作".  The person must be asked about ("is there
# …", "do I …") and the alternative be self-service: "I want a human, or do I have to use the app?",
# "a human or not?" and "get me an agent or I'll cancel" still ask.
CHANNEL_CHOICE = re.compile(
    r"\b(?:is there|are there|is it|is this|is a|are the|are your|are you|can i|could i|can we|do i|do we|"
    r"should i|should we|would i|will i)\b[^,?]{0,40}?"
    rf"{EN_HUMAN}\b(?:(?!\bor\b)[^,]){{0,60}},?\s*\bor\b(?!\s+(?:not|else|i'?ll|i will|we'?ll|we will))"
    r"[^,]{0,40}?\b(?:app|online|website|site|portal|form|myself|ourselves|self[- ]service|automated|"
    r"automatic|bot|robot|machines?|scanners?|kiosks?|cameras?|system|computer|ai|"
    # or another party: "should I ask the staff at the venue or contact you?"
    r"you|your (?:team|support|hotline|office|website)|the (?:venue|organi[sz]er|box office|front desk|reception|"
    r"shop|store|office|airline|hotel|bank|courier))\b|"
    r"(?:人工|客服|真人|工作人员)[^，,]{0,12}还是[^，,]{0,16}?(?:自己|app|小程序|网上|线上|在线|官网|机器人|自助)|"
    # which of two to contact: "是找现场工作人员还是找你们客服？"
    r"是(?:要|该|应该)?(?:去)?(?:找|联系|问)[^，。？！,?]{0,12}还是(?:要|该)?(?:去)?(?:找|联系|问)|"
    # which to do first: "是先报警还是先找你们人工客服？", "先找客服还是先去修理厂"
    r"(?:是|该|要|应该)?先[^，。？！,?]{1,12}还是(?:先|再|要|该)?(?:去)?(?:找|联系|问|打给?)"
    r"\s*(?:你们的?|一下)?\s*(?:人工客服|人工|客服|真人|工作人员)?|"
    r"先(?:找|联系|问|打给?)[^，。？！,?]{0,12}还是(?:先|再)|"
    # self-service asked first, a person as the alternative: "罚单能在App里自己申诉吗？还是一定要转人工"
    # (the ？ is a space by now); "app里弄不了，还是转人工吧" has no question before 还是 and asks
    r"(?:自己|app|小程序|网上|线上|在线|官网|自助)[^。，,]{0,20}(?:吗|么|呢)[\s，,]*还是\s*"
    r"(?:说|一定|必须|只能|非得|都|需要|要|得)*\s*(?:转|找|联系|通过|打给?)?\s*(?:人工|客服|真人|工作人员)(?![^，。,]*吧)"
)
# Asking for *another* teacher, cleaner or driver replaces the provider the message names; it
# does not ask for an agent: "not clicking with my tutor, can I switch to someone else",
# "这个教练不太合适，能换个人吗".  "this bot is useless, put me through to someone else" asks.
PROVIDER = re.compile(
    r"\b(?:teacher|tutor|trainer|coach|instructor|cleaner|housekeeper|driver|rider|courier|doctor|"
    r"dentist|vet|nurse|therapist|stylist|hairdresser|barber|groomer|technician|engineer|installer|"
    r"mover|crew|nanny|carer|caregiver|walker|physio)s?\b|"
    r"老师|教练|阿姨|保洁|司机|骑手|快递员|医生|护士|师傅|技师|理发师|发型师|美容师|保姆|月嫂|家教|导游"
)
REPLACEMENT = re.compile(
    r"\b(?:switch|change|swap|move|get|have|assign|give|send|put)(?: me| us)?(?: (?:to|with|over to))? "
    r"(?:(?:someone|somebody) else|a different (?:one|person)|another (?:one|person))\b|"
    r"换(?:一)?个人"
)
