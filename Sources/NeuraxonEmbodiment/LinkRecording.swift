/// A body whose link has more to record than its ticks: the board's reports (failsafe,
/// reconnects) and the link's counters and round trip (`link` records). A `ControlLoop` made
/// with a recorder hands it to such a body before the run starts.
public protocol LinkRecordingBody: Body {
    /// Records the link into `recorder` from now on, from the thread that runs the body.
    func recordLink(to recorder: Recorder)
}

extension SerialRobotBody: LinkRecordingBody {
    /// Records the link with the board's STATUS asked for once a second.
    public func recordLink(to recorder: Recorder) { recordLink(to: recorder, statusPollMilliseconds: 1000) }
}

extension SimFirmwareBody: LinkRecordingBody {
    /// Records the serial link to the firmware, when there is one (not for the library). The
    /// firmware runs in lockstep, so nothing extra is sent to it: its STATUS is the one that
    /// answers the final STOP, and there are no round trips (PINGs are off).
    public func recordLink(to recorder: Recorder) { serial?.recordLink(to: recorder, statusPollMilliseconds: nil) }
}
