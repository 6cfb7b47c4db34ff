// The one version string every executable prints for `--version` (notifyd, the three
// services, instaverse-load, ws-echo, web-hello). Hand-kept: bump it with a release.
public enum InstaverseVersion {
    public static let string = "0.13.0"
}
