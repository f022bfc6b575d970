// Everything the voice control says, in both languages. Notices arrive with the server's own text in
// the conversation's language; these are the fallbacks when a notice carries none.
import type { Locale, Strings } from "../i18n";

type Key =
  | "hold_to_talk"
  | "talk_over"
  | "hands_free"
  | "hands_free_on"
  | "stop"
  | "preparing"
  | "preparing_hold"
  | "listening"
  | "listening_hands_free"
  | "recognising"
  | "speaking"
  | "you_said"
  | "assistant_says"
  | "english_only"
  | "notice_no_speech"
  | "notice_not_understood"
  | "notice_language_unsupported"
  | "notice_asr_unavailable"
  | "notice_too_long"
  | "notice_clipped"
  | "notice_other"
  | "error_connection_lost"
  | "error_other"
  | "unavailable_denied"
  | "unavailable_no_microphone"
  | "unavailable_insecure"
  | "unavailable_failed"
  | "unavailable_server"
  | "voice_off"
  | "dismiss";

export const STRINGS: Strings<Key> = {
  en: {
    hold_to_talk: "Hold to talk (or hold Space)",
    talk_over: "Listening hands-free — press to interrupt the reply",
    hands_free: "Hands-free",
    hands_free_on: "Hands-free is on: just talk",
    stop: "Stop",
    preparing: "Preparing voice…",
    preparing_hold: "Preparing voice… keep talking, nothing is lost",
    listening: "Listening… release to send",
    listening_hands_free: "Listening…",
    recognising: "Recognising…",
    speaking: "Speaking…",
    you_said: "You said: “{text}”",
    assistant_says: "“{text}”",
    english_only: "Voice understands English only for now; type in Chinese, or speak English.",
    notice_no_speech: "I didn't hear anything. Hold the button while you speak.",
    notice_not_understood: "Sorry, I couldn't make that out. Please try again, or type it.",
    notice_language_unsupported: "Voice recognition understands English only; please speak English or type.",
    notice_asr_unavailable: "Speech recognition isn't working right now; please type instead.",
    notice_too_long: "That was too long; only the first part was used. Try shorter sentences.",
    notice_clipped: "Your microphone is too loud and the sound is distorted; move back a little.",
    notice_other: "Voice: {code}",
    error_connection_lost: "The voice connection was lost ({detail}). Press the button to try again.",
    error_other: "Voice error: {detail}",
    unavailable_denied:
      "Microphone access is blocked. Allow it in your browser's site settings to talk; typing still works.",
    unavailable_no_microphone: "No microphone was found. You can still type.",
    unavailable_insecure: "Voice needs a secure (https) page. You can still type.",
    unavailable_failed: "The microphone could not be started ({detail}). You can still type.",
    unavailable_server: "Voice chat is unavailable: {detail}. You can still type.",
    voice_off: "Voice is unavailable",
    dismiss: "Close",
  },
  zh: {
    hold_to_talk: "按住说话（或按住空格键）",
    talk_over: "免提聆听中——按下可打断回答",
    hands_free: "免提",
    hands_free_on: "免提已开启：直接说话即可",
    stop: "停止",
    preparing: "正在准备语音…",
    preparing_hold: "正在准备语音…请继续说，内容不会丢失",
    listening: "正在听…松开即发送",
    listening_hands_free: "正在听…",
    recognising: "正在识别…",
    speaking: "正在朗读回答…",
    you_said: "你说：“{text}”",
    assistant_says: "“{text}”",
    english_only: "语音识别目前只支持英语：请用英语说，或直接输入中文。",
    notice_no_speech: "没有听到声音。请按住按钮再说话。",
    notice_not_understood: "抱歉，没听清楚。请再说一次，或直接输入。",
    notice_language_unsupported: "语音识别目前只支持英语：请用英语说，或直接输入中文。",
    notice_asr_unavailable: "语音识别暂时不可用，请改用文字输入。",
    notice_too_long: "说得太长了，只使用了前一部分。请说短一些。",
    notice_clipped: "麦克风音量过大，声音失真了，请离远一点。",
    notice_other: "语音提示：{code}",
    error_connection_lost: "语音连接已断开（{detail}）。请再按一次按钮重试。",
    error_other: "语音出错：{detail}",
    unavailable_denied: "麦克风权限被拒绝。请在浏览器的网站设置中允许使用麦克风；文字输入不受影响。",
    unavailable_no_microphone: "没有找到麦克风。仍可以使用文字输入。",
    unavailable_insecure: "语音功能需要安全（https）页面。仍可以使用文字输入。",
    unavailable_failed: "无法启动麦克风（{detail}）。仍可以使用文字输入。",
    unavailable_server: "语音聊天暂不可用：{detail}。仍可以使用文字输入。",
    voice_off: "语音不可用",
    dismiss: "关闭",
  },
};

export type StringKey = Key;

/** The string in `locale` (the prop the chat page passes, so both always agree). */
export function translate(locale: Locale, key: Key, vars: Record<string, string | number> = {}): string {
  let text = STRINGS[locale][key] ?? STRINGS.en[key];
  for (const [name, value] of Object.entries(vars)) text = text.replaceAll(`{${name}}`, String(value));
  return text;
}
