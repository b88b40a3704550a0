// Stand-in for node-datachannel, whose install downloads a native binary that
// our machines cannot fetch. WebRTC is never used by the tests; these names
// only satisfy webrtc-polyfill's imports.
export class PeerConnection {}
export class RtcpReceivingSession {}
export class Video {}
export class Audio {}
export function cleanup() {}
export default {};
