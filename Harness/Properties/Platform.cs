// The simulated hosts are Linux namespaces, and the node it runs is Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
