// The node under test is Linux-only (podman, runc, CRIU); so are its tests.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
