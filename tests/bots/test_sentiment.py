"""Sentiment: the explainable scorer, its accuracy on the labelled set, and the bot's use of it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from parley.bots.answer import Answerer
from parley.bots.knowledge import HandoffDetector, KnowledgeIndex
from parley.bots.runner import SupportBot
from parley.bots.sentiment import DATA, SentimentScorer, evaluate
from parley.proto.vocabulary import SupportState
from parley.sdk import AdminClient, Client, MessageEvent
from tests.harness import RunningNode, running_node
from tests.sdk.helpers import first, until

pytestmark = pytest.mark.timeout(90)

BOT = "parley-bot"
scorer = SentimentScorer()


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("not bad at all", "positive"),
        ("不错", "positive"),
        ("不差", "positive"),
        ("not happy with this", "negative"),
        ("不满意", "negative"),
        ("好的", "neutral"),
        ("I can't complain", "positive"),
        ("what if the parcel is damaged?", "neutral"),
        ("非常失望", "negative"),
        ("好烦", "negative"),
        ("快递显示签收了但我根本没收到", "negative"),
        ("快递什么时候到", "neutral"),
    ],
)
def test_rules(text: str, label: str) -> None:
    assert scorer.score(text).label == label, scorer.score(text)


def test_explained_and_strong() -> None:
    s = scorer.score("Worst service ever, I'm so angry!!")
    assert s.label == "negative" and s.strong and s.score <= -2
    assert any(e.startswith("worst") for e in s.evidence)
    assert any("angry[intensified]" in e for e in s.evidence)
    mild = scorer.score("the colour is a bit wrong, not happy")
    assert mild.label == "negative" and not mild.strong


def test_accuracy_on_labelled_set() -> None:
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 60
    res = evaluate(scorer, rows)
    right, total = res["holdout"]
    assert right / total >= 0.9
    right, total = res["fresh"]
    assert right / total >= 0.5  # the set never tuned on; see docs/BOT_QUALITY.md


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[RunningNode]:
    async with running_node(tmp_path) as running:
        yield running


@asynccontextmanager
async def connect(node: RunningNode, user: str, role: str = "user") -> AsyncIterator[Client]:
    await node.node.services.apps.upsert_user(node.app.app, user, role=role)
    async with Client(node.url, token=await node.token(user)) as client:
        yield client


@asynccontextmanager
async def support_case(
    node: RunningNode, kb_index: KnowledgeIndex, customer_id: str
) -> AsyncIterator[tuple[SupportBot, Client, str]]:
    """A running bot, a connected customer and the customer's new support conversation."""
    async with connect(node, BOT, "bot") as bot_client, connect(node, customer_id) as customer:
        bot = SupportBot(bot_client, Answerer(kb_index, None), detector=HandoffDetector())
        bot.start()
        try:
            yield bot, customer, (await customer.create_support()).conv
        finally:
            await bot.stop()


async def test_bot_tags_and_hands_over_on_negative_sentiment(
    node: RunningNode, kb_index: KnowledgeIndex
) -> None:
    async with (
        AdminClient(node.http, node.api_key) as admin,
        connect(node, BOT, "bot") as bot_client,
        connect(node, "cust") as customer,
    ):
        bot = SupportBot(bot_client, Answerer(kb_index, None), detector=HandoffDetector(), admin=admin)
        bot.start()
        try:
            inbox = customer.events(MessageEvent)
            conv = (await customer.create_support()).conv

            # A mildly negative question is answered; the tag records it.
            m1 = await customer.send(conv, "Not happy, how much does shipping cost?")
            answer = (await first(inbox, lambda e: e.message.sender == BOT, 30)).message
            assert "¥299" in (answer.text or "")
            profile = await admin.profile("cust")
            tag = profile.tag("sentiment:negative")
            assert tag is not None and tag.source == "model" and tag.evidence == m1.mid and tag.expires > 0

            # A second negative message in a row hands over.
            await customer.send(conv, "this is taking forever, really annoying")
            waiting = await first(
                inbox,
                lambda e: e.message.kind == "system" and e.message.body.get("state") == "waiting_for_agent",
                20,
            )
            assert "reason" not in waiting.message.body, "the reason is for agents, not the customer"
            assert (
                await node.node.services.support.ticket(node.app.app, conv)
            ).reason == "sentiment:repeated"

            # While waiting the bot is silent, but tags still follow the customer's mood.
            m3 = await customer.send(conv, "谢谢，好的")
            await until(lambda: bot.convs[conv].handled >= m3.seq, 10)
            names = (await admin.profile("cust")).tag_names
            assert "sentiment:positive" in names and "sentiment:negative" not in names
        finally:
            await bot.stop()


async def test_trouble_told_calmly_twice_is_answered_not_handed_over(
    node: RunningNode, kb_index: KnowledgeIndex
) -> None:
    async with support_case(node, kb_index, "cust3") as (bot, customer, conv):
        inbox = customer.events(MessageEvent)
        for text in (
            "my parcel hasn't arrived yet",
            "the tracking still hasn't moved, how long does shipping take?",
        ):
            m = await customer.send(conv, text)
            await first(inbox, lambda e, m=m: e.message.sender == BOT and e.message.seq > m.seq, 30)
        assert bot.convs[conv].negative_streak == 0
        assert (await node.node.services.support.ticket(node.app.app, conv)).state == SupportState.BOT
        async with connect(node, "agent3", "agent") as agent:
            tag = (await agent.profile("cust3")).tag("sentiment:negative")
            assert tag is not None, "the trouble is still on the customer's profile"


async def test_strongly_negative_hands_over_at_once(node: RunningNode, kb_index: KnowledgeIndex) -> None:
    async with support_case(node, kb_index, "cust2") as (_, customer, conv):
        inbox = customer.events(MessageEvent)
        await customer.send(conv, "垃圾产品，气死我了，退款到现在还没到账")
        waiting = await first(
            inbox,
            lambda e: e.message.kind == "system" and e.message.body.get("state") == "waiting_for_agent",
            30,
        )
        assert "reason" not in waiting.message.body, "the reason is for agents, not the customer"
        assert (await node.node.services.support.ticket(node.app.app, conv)).reason == "sentiment:strong"
        async with connect(node, "agent1", "agent") as agent:
            tag = (await agent.profile("cust2")).tag("sentiment:negative")
            assert (
                tag is not None and tag.source == "model"
            )  # a model prediction, also without the admin client


@pytest.mark.parametrize(
    "text",
    [
        "the router stopped working last night and I work from home",
        "my order still hasn't arrived, it was due on friday",
        "会员卡丢了，怎么补办",
        "付款的时候一直显示支付失败",
        # illness and injury, of the customer, a child or a pet
        "my cat has been vomiting since last night and won't eat",
        "the stitches look swollen and infected",
        "孩子发烧了，还拉肚子",
        "洗完牙一直流血",
        # called off or moved by the business, not by the customer (session 11)
        "our flight was cancelled this morning, what are my options",
        "the workshop has been postponed again",
        "比赛延期了，门票还能用吗",
        "航班被取消了怎么办",
        "the plumber was due at 2, no sign of him",
        "阿姨打扫完还是不太干净",
    ],
)
def test_described_trouble_is_mildly_negative(text: str) -> None:
    mood = scorer.score(text)
    assert mood.label == "negative" and not mood.strong and mood.trouble and not mood.upset, mood
    assert any(e.startswith("trouble:") for e in mood.evidence)


@pytest.mark.parametrize(
    "text",
    [
        "what if my luggage gets lost on the way?",
        "nothing arrived broken, all good",
        "不急，慢慢来",
        "会员卡没丢，就是想换张新的",
        # the customer's own cancelling or moving is no trouble
        "I cancelled my booking yesterday, is the refund on its way?",
        "can I move my appointment to friday?",
        "我已经取消了订单，钱什么时候退",
        "我们取消了周六的预约",
        "what if the concert is cancelled?",
    ],
)
def test_negated_or_hypothetical_trouble_is_not(text: str) -> None:
    assert not scorer.score(text).trouble, scorer.score(text)


def test_trouble_never_deepens_an_angry_message_into_a_strong_one() -> None:
    angry = scorer.score("so annoying, the parcel is lost")
    assert angry.label == "negative" and angry.upset and not angry.strong
    assert not any(e.startswith("trouble:") for e in angry.evidence)


@pytest.mark.parametrize(
    "text",
    [
        "下周出差三天，课能往后挪吗",
        "升级套餐的差价怎么算",
        "牙上好多牙结石，能洗吗",
        "好像扣了两次钱？",
    ],
)
def test_compounds_are_not_read_as_their_first_character(text: str) -> None:
    """出差 is a business trip and 差价 a price difference, not 差 "bad"; 好多/好像 are not 好 "good"."""
    mood = scorer.score(text)
    assert not any(e.startswith(("差(", "好(")) for e in mood.evidence), mood


@pytest.mark.parametrize(
    "text",
    [
        "你好，请问周末几点关门",
        "您好，想问下寄存怎么收费",
        "closing my account for good, what happens to my points",
        "good morning, what's the late cancellation fee for a class",
        "is there a late fee if I pay next week",
        "late payment charge on management fee, hk",  # session 22 (estate holdout)
    ],
)
def test_greetings_idioms_and_fee_names_carry_no_verdict(text: str) -> None:
    """Session 19: 你好 scored as 好 "good", "for good" as good, "late fee" as a delay."""
    evidence = scorer.score(text).evidence
    assert not any(e.startswith(("好(", "good(", "late(")) for e in evidence), evidence


@pytest.mark.parametrize(
    "text",
    [
        "麻烦安排一位客服专员给我回个电话，号码138 2654 7781",
        "麻烦帮我接一下真人客服",
        "不想麻烦人工客服了，自己在网上能预约吗",
    ],
)
def test_mafan_asking_a_favour_is_not_annoyance(text: str) -> None:
    """Session 22 (limo holdout): 麻烦 before the favour is "please"; 烦 inside it read as "annoying"."""
    assert scorer.score(text).label != "negative", scorer.score(text)


@pytest.mark.parametrize("text", ["每个月自己交好麻烦", "月付太麻烦了", "麻烦死了"])
def test_mafan_as_a_hassle_stays_negative(text: str) -> None:
    assert scorer.score(text).label == "negative", scorer.score(text)


@pytest.mark.parametrize(
    "text",
    [
        "转人工客服，谢谢",
        "Please have someone from the front desk call me back on 6123 4588, thanks",
        "ok thank you 🙏",
    ],
)
def test_thanks_closing_a_message_is_courtesy_not_praise(text: str) -> None:
    """Session 22: a closing 谢谢 / "thanks" after a request made it positive (labelled neutral 11 of 12)."""
    mood = scorer.score(text)
    assert mood.label == "neutral" and any("[closing]" in e for e in mood.evidence), mood


@pytest.mark.parametrize(
    "text", ["谢谢！", "thanks, that fixed it", "Great service, thanks!", "问题解决了，谢谢"]
)
def test_thanks_alone_or_leading_and_praise_beside_it_still_count(text: str) -> None:
    assert scorer.score(text).label == "positive", scorer.score(text)


def test_closing_thanks_no_longer_cancels_a_complaint() -> None:
    assert scorer.score("The driver was late again, thanks").label == "negative"


def test_so_ugly_is_negative() -> None:
    """好难看: 好 before a negative word intensifies it (as 好烦); 难看 was missing from the lexicon."""
    mood = scorer.score("剪完越看越觉得好难看，还能免费修吗")
    assert mood.label == "negative" and any(e.startswith("难看[intensified]") for e in mood.evidence), mood


@pytest.mark.parametrize(
    "text",
    [
        "基础版和专业版到底差在哪？价钱差多少？",
        "两种镜片差多少钱",
        "这两款差别大吗",
        "差点忘了问，周日开门吗",
    ],
)
def test_differ_and_almost_are_not_bad(text: str) -> None:
    """Session 19 (salon holdout): 差在哪 / 差多少 ask a difference, 差点 is "almost"; 太差了 stays negative."""
    assert scorer.score(text).label == "neutral", scorer.score(text)
    assert scorer.score("服务太差了").label == "negative"


@pytest.mark.parametrize(
    "text",
    [
        "保洁包括倒垃圾吗",
        "能帮忙把装修垃圾清走吗",
        "垃圾桶也要洗吗",
        "我们小区垃圾分类很严，阿姨知道怎么扔吗",
        # session 22 (estate holdout): a kind of rubbish, in either language
        "大件垃圾 怎么约",
        "建筑垃圾怎么处理",
        "the rubbish chute on our floor is blocked again, who do I tell",
        "when does the bulky garbage collection come round?",
    ],
)
def test_rubbish_as_a_thing_is_not_rubbish_as_a_verdict(text: str) -> None:
    """倒垃圾 is taking out the rubbish: neutral, where 垃圾 alone ("垃圾服务") is scorn."""
    assert scorer.score(text).label == "neutral", scorer.score(text)
    assert scorer.score("你们这垃圾服务").label == "negative"
    assert scorer.score("your service is garbage").label == "negative"


@pytest.mark.parametrize(
    "text",
    [
        "stuck at work till late tonight, can my sister pick it up?",
        "can I get a late check-out?",
        "how late are you open",
    ],
)
def test_late_as_a_time_of_day_is_no_delay(text: str) -> None:
    """Session 18: "till late tonight" made an errand strongly negative; "3 days late" stays negative."""
    assert not any(e.startswith("late(") for e in scorer.score(text).evidence), scorer.score(text)
    assert scorer.score("my parcel is 3 days late").label == "negative"


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [("氣死我了，垃圾服務", "气死我了，垃圾服务"), ("服務很好，謝謝", "服务很好，谢谢")],
)
def test_traditional_characters_score_as_simplified(traditional: str, simplified: str) -> None:
    """Session 16: Hong Kong customers write Traditional; the lexicon is Simplified."""
    assert scorer.score(traditional) == scorer.score(simplified)


# Session 20: a disclaimer is not praise, emoji carry a feeling, 不然 is not a negator.
@pytest.mark.parametrize(
    "text",
    [
        "not making a complaint, just want to know how long the refund takes",
        "Not a complaint, but why does my receiver get less than the bank's rate?",
        "不是投诉哈，就想问下沙发框架保修几年",
    ],
)
def test_a_disclaimed_complaint_is_neutral_not_positive(text: str) -> None:
    mood = scorer.score(text)
    assert mood.label == "neutral", mood
    assert any("disclaimer" in e for e in mood.evidence)


@pytest.mark.parametrize("text", ["no complaints, the fitter was great", "I can't complain, it works"])
def test_no_complaints_is_still_praise(text: str) -> None:
    assert scorer.score(text).label == "positive", scorer.score(text)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("张 dining table 用咗一年，台脚开始摇 😩 warranty claim 点样 submit？", "negative"),
        ("we've got a piano on the 4th floor, no lift 😩 can you even do that", "negative"),
        ("现在改还扣钱不😭", "negative"),
        ("I PASSED!!! 🎉 ok so what do i do now to get my licence", "positive"),
        ("how do the member points work? 🙂", "positive"),
        ("lol sorry 😅 where do i find my order number", "neutral"),
    ],
)
def test_emoji_with_one_reading_carry_their_feeling_and_are_never_negated(text: str, label: str) -> None:
    assert scorer.score(text).label == label, scorer.score(text)


def test_emoji_alone_never_make_a_message_strongly_negative() -> None:
    mood = scorer.score("dropped my phone in the toilet 😭😭😭 😡 what do i do now")
    assert mood.label == "negative" and not mood.strong, mood
    assert scorer.score("worst service ever, so angry!! 😡").strong


def test_otherwise_is_not_a_negator() -> None:
    mood = scorer.score("我要求赔偿医药费，不然就投诉到市场监管局")
    assert mood.label == "negative", mood
    assert not any("negated" in e for e in mood.evidence)


@pytest.mark.parametrize("text", ["你们是不是骗钱的？", "你哋系咪骗钱㗎？"])
def test_an_a_not_a_question_negates_nothing(text: str) -> None:
    """Session 20: 是不是骗钱 asks "is it a scam?" — it was read as "not a scam", praise."""
    mood = scorer.score(text)
    assert mood.label == "negative" and mood.strong, mood


def test_a_not_a_just_outside_the_negation_window_is_seen_whole() -> None:
    mood = scorer.score("年三十前几日会唔会好慢？")
    assert not any("negated" in e for e in mood.evidence), mood


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("到而家都冇人联络我", "没有人联络"),
        ("打你哋热线成日都打唔通", "打不通"),
        ("客服电话一直打不通", "打不通"),
    ],
)
def test_cantonese_is_read_in_mandarin_words_for_tone_and_trouble(text: str, cue: str) -> None:
    mood = scorer.score(text)
    assert mood.label == "negative" and mood.trouble, mood
    assert f"trouble:{cue}" in mood.evidence


@pytest.mark.parametrize(
    "text", ["年付了两周想退订，能退钱吗", "可不可以退钱", "买咗套餐但系而家用唔到，好烦，可唔可以退钱㗎"]
)
def test_a_refund_asked_as_a_question_is_no_demand(text: str) -> None:
    """Session 21 (checkup holdout): 可唔可以退钱 is a policy question; with 好烦 it crossed the strong line."""
    mood = scorer.score(text)
    assert not mood.strong and not any("退钱" in e for e in mood.evidence), mood


@pytest.mark.parametrize("text", ["马上退钱，不然我去12315投诉", "必须全额退钱"])
def test_a_refund_demanded_still_counts(text: str) -> None:
    assert any("退钱" in e for e in scorer.score(text).evidence)


@pytest.mark.parametrize(
    "text",
    [
        # session 23 (pest, tailor holdouts): a recommendation asked for, or a friend's, is no praise
        "can you recommend a good roach spray I can buy at watsons?",
        "Could you recommend a shoemaker in central?",
        "想买个猫爬架，推荐一下？",
        "朋友推荐了你们家，想问下价钱",
    ],
)
def test_a_recommendation_asked_for_or_passed_on_is_no_praise(text: str) -> None:
    assert scorer.score(text).label != "positive", scorer.score(text)


@pytest.mark.parametrize("text", ["I'd recommend you to anyone", "强烈推荐，服务很好"])
def test_recommending_the_business_is_still_praise(text: str) -> None:
    assert scorer.score(text).label == "positive", scorer.score(text)


@pytest.mark.parametrize(
    "text",
    [
        # session 23 (tailor, pest holdouts): 好 as "done", "seems", "just", "which is better", "excuse me"
        "在深圳下的单，做好能寄到香港吗？运费怎么算",
        "suit 整好之后可以 deliver 去深圳吗",
        "修好以后有保修吗",
        "香港夏天太热了，做西装选什么面料比较好",
        "网上已经订好了，搬进去那天需要带什么证件？",
        "不好意思，想问下几点开门",
        "刚好路过，想问下你们几点关门",
    ],
)
def test_hao_that_is_not_good_carries_no_tone(text: str) -> None:
    assert scorer.score(text).label == "neutral", scorer.score(text)


@pytest.mark.parametrize("text", ["你们的服务很好", "师傅做得好，谢谢", "挺好的"])
def test_hao_as_good_still_praises(text: str) -> None:
    assert scorer.score(text).label == "positive", scorer.score(text)


@pytest.mark.parametrize(
    "text",
    [
        # session 23 (pest, tailor holdouts)
        "omg just saw a rat run behind the fridge 😱😱 what do u guys do for rats",
        "Can I speak to a real person please? This bot isn't helping",
        "my old suits are basically unwearable here, what cloth would you suggest?",
        "买的裤子不合身，可以改吗",
    ],
)
def test_shock_a_bot_not_helping_and_clothes_that_do_not_fit_are_negative(text: str) -> None:
    assert scorer.score(text).label == "negative", scorer.score(text)
