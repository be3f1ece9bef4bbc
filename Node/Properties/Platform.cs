// Podman, runc and CRIU exist only on Linux; so does this node.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
