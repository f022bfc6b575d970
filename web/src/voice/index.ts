export { VoiceControl, type VoiceControlProps } from "./VoiceControl";
