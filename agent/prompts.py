"""Everything the assistant says that is not a fact from a tool: templates and LLM prompts.

Templates come in English and Chinese and are the reply whenever no LLM is configured
or the LLM's text fails the grounding check, so each one must read well on its own.
"""

from __future__ import annotations

from typing import Literal

Language = Literal["zh", "en"]

TEMPLATES: dict[str, tuple[str, str]] = {
    # clarifying questions (one per missing slot group)
    "ask_height_weight": (
        "To suggest a size I need your height and weight, e.g. “170 cm, 60 kg” or “5'7\", 130 lb”.",
        "为了推荐尺码，我需要你的身高和体重，例如“身高170，体重60公斤”。",
    ),
    "ask_size_product": (
        "Which product should I size? Search for it first, or give its id, "
        "e.g. “which size for product 15970”.",
        "要看哪件商品的尺码？先搜索一下，或者告诉我商品编号，例如“编号15970穿什么码”。",
    ),
    "ask_size_product_and_body": (
        "Which product should I size, and what are your height and weight? "
        "e.g. “product 15970, 170 cm, 60 kg”.",
        "要看哪件商品的尺码？也请告诉我你的身高和体重，例如“编号15970，身高170，体重60公斤”。",
    ),
    "ask_size_measurements": (
        "To choose a size of this I need your {what}, e.g. “chest 92 cm” or “170 cm, 60 kg”.",
        "为了选这件的尺码，我需要你的{what}，例如“胸围92”或“身高170，体重60公斤”。",
    ),
    "ask_feedback_size": ("Which size did you have?", "当时穿的是哪个尺码？"),
    "ask_occasion": (
        "What is the occasion, or which kind of piece are you looking for?",
        "是什么场合穿？或者你想找哪一类单品？",
    ),
    "ask_what_item": (
        "Which item do you mean? Tell me the category and colour, e.g. “a navy blazer”.",
        "你指的是哪件？告诉我品类和颜色，比如“一件藏青色西装外套”。",
    ),
    "ask_which_product": (
        "Which product do you mean? I have no earlier results in this conversation to point back to.",
        "你指的是哪一件商品？这次对话里还没有可以指代的结果。",
    ),
    "ask_threshold": (
        "At what price should I tell you? e.g. “below 300 yuan”.",
        "降到多少钱时提醒你？例如“低于300元”。",
    ),
    "ask_profile_change": (
        "What would you like me to remember? e.g. your height, weight, favourite colours or budget.",
        "你想让我记住什么？例如身高、体重、喜欢的颜色或预算。",
    ),
    "tryon_ask_photo": (
        "Send me a photo of yourself (just you, facing the camera, from the waist up or full length) and "
        "I'll put it on you.",
        "发一张你本人的照片（只有你自己，正对镜头，半身或全身），我来帮你试穿。",
    ),
    "tryon_ask_product": (
        "Which product should I put on you? Find one first (e.g. “show me navy blazers”), then say "
        "“try the first one on me” and send a photo of yourself.",
        "要试穿哪一件商品？先找到它（比如“给我看看藏青色西装外套”），再说“试穿第一件”，并发一张你本人的照片。",
    ),
    "tryon_started": (
        "Putting {garment} on your photo now; the picture will appear here in a few seconds.",
        "正在把「{garment}」穿到你的照片上，几秒钟后图片会显示在这里。",
    ),
    "tryon_refused": ("I can't try that on: {reason}", "没法试穿：{reason}"),
    "tryon_engine_note": (
        "This preview warps the product photo onto your body without a generative model, so treat it as "
        "a rough look at colour and length, not an exact fit.",
        "这是把商品图按你的身形贴合的预览（未使用生成模型），可以参考颜色和长度，但不代表真实上身效果。",
    ),
    "image_board": (
        "Here is the outfit laid out from its pieces' real photos: {pieces}.",
        "这是用单品实拍图拼出的穿搭图：{pieces}。",
    ),
    "image_generating": (
        "A generated picture of someone wearing it is being drawn and will appear here.",
        "同时正在生成一张穿上这套搭配的效果图，完成后会显示在这里。",
    ),
    "image_board_note": (
        "No image-generation model is installed in this deployment, so this is a layout of the real "
        "photos, not a picture of you wearing them.",
        "当前部署没有安装图像生成模型，所以这是实拍图拼版，不是你穿上它们的效果图。",
    ),
    "ask_image_description": (
        "What should the image show? Describe the outfit: pieces, colours, occasion.",
        "图片要画什么？描述一下这套穿搭：单品、颜色、场合。",
    ),
    # confirmations (long-term memory)
    "confirm_save": (
        "Shall I save this to your profile: {changes}?",
        "要把这些保存到你的档案吗：{changes}？",
    ),
    "saved": ("Saved to your profile.", "已保存到你的档案。"),
    "save_cancelled": ("OK, I won't save it.", "好的，不保存。"),
    "save_failed": ("I couldn't save that: {reason}", "没能保存：{reason}"),
    "profile_read_failed": ("I couldn't read your profile: {reason}", "没能读取你的档案：{reason}"),
    # capabilities that need a component not built yet: said plainly, never faked
    "unavailable": (
        "{capability} isn't available yet in this version of the assistant, so I can't answer that "
        "with real data.",
        "这个版本的助手还不能{capability}，所以我没法用真实数据回答。",
    ),
    "noted": ("I noted: {slots}.", "我记下了：{slots}。"),
    "profile_summary": ("Here is what I know about you: {facts}.", "你的档案：{facts}。"),
    "profile_empty": (
        "Your profile has no measurements yet. Tell me your height and weight and I can remember them.",
        "你的档案里还没有身材数据。告诉我身高和体重，我可以帮你记住。",
    ),
    "profile_unreadable": ("I couldn't read your profile: {reason}", "读取档案失败：{reason}"),
    # sizing: the advice's numbers come from the recommend_size tool's facts
    "size_advice": ("{facts}.", "{facts}。"),
    "size_one_size": (
        "This product comes in one size only, so there is no size to choose.",
        "这件商品只有均码，不需要选尺码。",
    ),
    "size_no_chart": (
        "I can't tell which size fits this one and won't guess: {reason}.",
        "这件商品没有可用的尺码表，我没法判断哪个尺码合适，也不想乱猜。",
    ),
    "size_implausible": ("{reason}", "这些身材数据好像不对，请再确认一下：{reason}"),
    "size_unknown": ("{reason}.", "没有这个尺码：{reason}。"),
    "size_failed": ("I couldn't work out a size: {reason}", "没能给出尺码建议：{reason}"),
    "fit_feedback_recorded": (
        "Thanks, {facts}. I'll take it into account the next time you ask about sizes.",
        "谢谢反馈，{facts}。下次推荐尺码时会参考。",
    ),
    "measurements_known": ("Your measurements: {facts}.", "你的身材数据：{facts}。"),
    # catalogue, stock and price alerts: numbers come from tool facts, filled into these templates
    "products_found": (
        "I found {total} matching products. The top {shown}: {items}.",
        "找到 {total} 件符合的商品，前 {shown} 件：{items}。",
    ),
    "products_found_size": (
        "I found {total} matching products in stock in size {size}. The top {shown}: {items}.",
        "找到 {total} 件 {size} 码有货的商品，前 {shown} 件：{items}。",
    ),
    "outfits_found": ("Here are {n} outfit ideas:", "为你搭配了 {n} 套："),
    "outfit_found": ("Here is one outfit idea:", "为你搭配了 1 套："),
    "outfits_none": (
        "I could not put a complete outfit together: {why}",
        "没能搭配出完整的一套：{why}",
    ),
    "wardrobe_not_yet": (
        "Your wardrobe has nothing I can build an outfit around yet, so these come from the shop's "
        "catalogue. Send me photos of your clothes to add them.",
        "你的衣橱里还没有能搭配的单品，所以下面的搭配来自商城。发衣服的照片给我就能加入衣橱。",
    ),
    "wardrobe_added": ("Added to your wardrobe: {items}.", "已加入你的衣橱：{items}。"),
    "wardrobe_add_failed": ("I could not add that photo: {reason}", "这张照片没能加入衣橱：{reason}"),
    "wardrobe_ask_photo": (
        "Send me a photo of it (flat or worn, plain background) and I'll add and tag it; or tell me its "
        "colour and what it is.",
        "发一张它的照片给我（平铺或穿在身上，背景简洁），我来加入衣橱并自动打标签；也可以告诉我颜色和品类。",
    ),
    "wardrobe_items": (
        "You have {total} items in your wardrobe. {items}",
        "你的衣橱里共有 {total} 件。{items}",
    ),
    "wardrobe_empty": (
        "Your wardrobe is empty so far. Send me photos of your clothes and I'll add and tag them.",
        "你的衣橱还是空的。发衣服的照片给我，我来加入并自动打标签。",
    ),
    "wardrobe_outfits": ("From your own wardrobe:", "用你衣橱里的衣服："),
    "wardrobe_wear_failed": ("I could not log that: {reason}", "没能记录：{reason}"),
    "wardrobe_ask_worn": (
        'What did you wear? Tell me the pieces, e.g. "my white tee and blue jeans".',
        "你穿了哪几件？比如“白T恤和蓝色牛仔裤”。",
    ),
    "outfit_why": ("Why the first one works: {reasons}.", "第一套的理由：{reasons}。"),
    "product_item": ("{name} ({price} CNY, id {id})", "{name}（{price}元，编号 {id}）"),
    "products_none": (
        "I found nothing in the catalogue matching that{understood}. Try another colour, item or price.",
        "商品库里没有找到符合的商品{understood}。换个颜色、品类或价格试试？",
    ),
    "generated_note": (
        "(Prices, sizes and stock in this demo catalogue are generated.)",
        "（演示商品库的价格、尺码和库存为生成数据。）",
    ),
    "stock_sizes": ("{name} is in stock in {sizes}.", "{name}有货的尺码：{sizes}。"),
    "stock_size": ("{name} in size {size}: {qty} in stock.", "{name} {size} 码有货，剩 {qty} 件。"),
    "stock_sold_out": ("{name} in size {size} is sold out.", "{name} {size} 码已售罄。"),
    "stock_none": ("{name} is sold out in every size.", "{name}所有尺码都已售罄。"),
    "price_now": ("It costs {price} CNY now.", "现价 {price} 元。"),
    "alert_set": (
        "Done: I'll tell you when {target} costs {threshold} CNY or less.",
        "好的：{target}降到 {threshold} 元或以下时我会提醒你。",
    ),
    "alert_already_below": (
        "Note: it already costs {price} CNY, at or below your price.",
        "注意：它现价 {price} 元，已经不高于你的目标价。",
    ),
    "alerts_fired": (
        "Price drop: {items}.",
        "降价提醒：{items}。",
    ),
    "alert_fired_item": (
        "{name} is now {price} CNY (your alert: {threshold})",
        "{name} 现价 {price} 元（你的提醒价 {threshold} 元）",
    ),
    "catalog_error": ("I couldn't do that: {reason}", "没能完成：{reason}"),
    # conversation
    "smalltalk": (
        "Hi! I'm your style assistant. I can help with outfits, sizes, your wardrobe and shopping.",
        "你好！我是你的形象顾问，可以帮你搭配穿搭、推荐尺码、管理衣橱和购物。",
    ),
    "thanks": ("You're welcome! Anything else about your style?", "不客气！还有什么穿搭问题吗？"),
    "out_of_scope": (
        "I can only help with clothing, style, sizes and your wardrobe. Is there something on that I can "
        "do for you?",
        "我只能帮你处理服装、穿搭、尺码和衣橱相关的问题。有这方面需要帮忙的吗？",
    ),
    "handoff_started": (
        "I'm connecting you with a member of our support team; they will reply here.",
        "正在为你转接人工客服，他们会在这里回复你。",
    ),
    "handoff_waiting": (
        "A member of our support team has this conversation and will reply here shortly.",
        "人工客服正在处理这个对话，很快会在这里回复你。",
    ),
    "handback": ("You're back with the assistant. How can I help?", "已切回智能助手。还有什么可以帮你？"),
    "failed": ("Something went wrong on my side: {reason}", "我这边出了点问题：{reason}"),
    "nothing": ("Could you tell me a bit more about what you need?", "能再具体说说你需要什么吗？"),
    # voice chat: what the person hears when there is nothing to answer yet
    "voice_no_speech": (
        "I didn't hear anything. Could you say that again?",
        "我没有听到声音，可以再说一遍吗？",
    ),
    "voice_not_understood": (
        "Sorry, I couldn't make that out. Could you say it again, a little more slowly?",
        "抱歉，我没听清，可以慢一点再说一遍吗？",
    ),
    "voice_language_unsupported": (
        "Sorry, speech recognition here only understands English. You can type, or ask for the Whisper "
        "speech server to be set up.",
        "抱歉，这里的语音识别目前只支持英语，暂时听不懂中文。"
        "你可以直接打字，或者请管理员配置 Whisper 语音识别服务。",
    ),
    "voice_asr_unavailable": (
        "Sorry, speech recognition isn't working right now. Please type your message instead.",
        "抱歉，语音识别暂时不可用，请先打字告诉我。",
    ),
    "voice_too_long": (
        "I stopped listening after {seconds} seconds and answered what I heard. Shorter questions work best.",
        "我听了 {seconds} 秒后就先回答了听到的内容，问题短一点效果更好。",
    ),
    "voice_more_on_screen": ("The details are in the chat.", "详细内容在聊天里。"),
    "voice_clipped": (
        "Your microphone sounds too loud and distorted, which makes you harder to understand.",
        "你的麦克风音量太大，声音失真了，会影响识别。",
    ),
}

CAPABILITIES: dict[str, tuple[str, str]] = {
    "outfit_advice": ("Outfit recommendation from the catalogue", "根据商品库推荐穿搭"),
    "product_search": ("Catalogue search", "搜索商品库"),
    "inventory": ("Checking stock and prices", "查询库存和价格"),
    "price_alert": ("Price-drop alerts", "设置降价提醒"),
    "size_advice": ("A size recommendation for a specific garment", "给出具体单品的尺码推荐"),
    "virtual_tryon": ("Virtual try-on", "虚拟试穿"),
    "image_generation": ("Drawing outfit images", "生成穿搭图片"),
    "wardrobe_add": ("Adding items to your wardrobe", "把单品加入衣橱"),
    "wardrobe_query": ("Looking through your wardrobe", "查看你的衣橱"),
    "wardrobe_outfit": ("Building outfits from your wardrobe", "用你衣橱里的衣服搭配"),
}

YES = (
    "yes", "y", "yeah", "yep", "sure", "ok", "okay", "please do", "do it", "confirm", "correct", "save it",
    "是", "是的", "好", "好的", "可以", "对", "对的", "确认", "保存", "嗯", "行", "没问题",
)  # fmt: skip
NO = (
    "no", "n", "nope", "don't", "do not", "cancel", "never mind", "not now",
    "不", "不要", "不用", "别", "取消", "算了", "不保存", "否",
)  # fmt: skip


def say(key: str, language: Language, **values: str) -> str:
    english, chinese = TEMPLATES[key]
    return (chinese if language == "zh" else english).format(**values)


def capability(intent: str, language: Language) -> str:
    english, chinese = CAPABILITIES[intent]
    return chinese if language == "zh" else english


def join(items: list[str], language: Language) -> str:
    return ("；" if language == "zh" else "; ").join(items)


RESPONDER_SYSTEM = (
    "You are a friendly personal style assistant. Rewrite the reply you are given so it sounds warm and "
    "natural, in the same language, in at most three short sentences. Keep every number, size and "
    "question in it. Do not add any number, size, price, measurement, brand or product name that is not "
    "in the reply or the facts. Answer with the rewritten reply only."
)

ROUTER_SYSTEM = (
    "Classify the user's message for a fashion assistant into exactly one intent. Intents: "
    "outfit_advice (what to wear), product_search (find products to buy), inventory (stock or price of a "
    "given product), price_alert (notify on price drop), size_advice (which size to order), virtual_tryon "
    "(see a garment on their photo), image_generation (draw an outfit image), wardrobe_add (add clothes they "
    "own), wardrobe_query (what they own), wardrobe_outfit (outfit from their own clothes), profile_update "
    "(remember measurements or preferences), handoff_human (talk to a person), smalltalk (greetings, "
    "thanks), out_of_scope (anything else)."
)
