using System.Collections.Immutable;
using System.Reflection;
using Akka.Serialization;
using Akka.Util;
using Newtonsoft.Json;
using Newtonsoft.Json.Serialization;

namespace AkkaMigration.Shared.Security;

/// <summary>
/// The types Akka's default serializer (`json`, Newtonsoft, with a `$type` in every object) may make
/// from what a peer sends. A node picks the deserializer by the serializer id the peer's message
/// carries, not by its own bindings, so the default serializer itself must refuse: anything else a
/// node certificate could name would be made on the node, constructor and setters run.
/// </summary>
/// <remarks>
/// Admitted: the records of this project's assemblies (the protocol, and the job directory's values
/// in replicated data), enums, primitives and the system's collections of admitted types, Akka's
/// own surrogates (an actor reference in a message), and interfaces and abstract types of these
/// assemblies (an array's declared element, never made). An assembly outside these is not even loaded.
/// </remarks>
public sealed class WireTypes : ISerializationBinder
{
    /// <summary>For every ActorSystem that reads peers' messages (BootstrapSetup, or Akka.Hosting's AddSetup).</summary>
    public static NewtonSoftJsonSerializerSetup Setup { get; } =
        NewtonSoftJsonSerializerSetup.Create(settings => settings.SerializationBinder = new WireTypes());

    private static readonly ImmutableHashSet<string> OwnAssemblies = ["AkkaMigration.Shared", "AkkaMigration.Node"];

    private static readonly ImmutableHashSet<string> Assemblies = OwnAssemblies.Union([
        "System.Private.CoreLib", "mscorlib", "System.Runtime", "System.Collections", "System.Collections.Immutable",
        "Akka", "Akka.Remote", "Akka.Cluster", "Akka.DistributedData"]);

    private static readonly ImmutableHashSet<Type> Values = [
        typeof(string), typeof(decimal), typeof(Guid), typeof(DateTime), typeof(DateTimeOffset), typeof(TimeSpan)];

    private static readonly ImmutableHashSet<string> CollectionNamespaces = ["System.Collections.Generic", "System.Collections.Immutable"];

    private readonly DefaultSerializationBinder _names = new();

    public Type BindToType(string? assemblyName, string typeName)
    {
        var assembly = assemblyName is null ? null : new AssemblyName(assemblyName).Name;
        if (assembly is not null && !Assemblies.Contains(assembly))
        {
            throw new JsonSerializationException($"a peer named the type {typeName} of the assembly {assembly}, which no message of the cluster's comes from");
        }
        var type = _names.BindToType(assemblyName, typeName);
        return Admitted(type)
            ? type
            : throw new JsonSerializationException($"a peer named the type {type}, which is not one of the cluster's messages");
    }

    public void BindToName(Type serializedType, out string? assemblyName, out string? typeName) =>
        _names.BindToName(serializedType, out assemblyName, out typeName);

    private static bool Admitted(Type type)
    {
        if (type.IsArray)
        {
            return Admitted(type.GetElementType()!);
        }
        // An interface or an abstract type is never made, only named: an array of IActorRef is.
        if (type.IsEnum || type.IsPrimitive || Values.Contains(type) || type.IsInterface || type.IsAbstract)
        {
            return true;
        }
        if (type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(Nullable<>) || CollectionNamespaces.Contains(type.Namespace ?? "")))
        {
            return type.GetGenericArguments().All(Admitted);
        }
        var assembly = type.Assembly.GetName().Name ?? "";
        return OwnAssemblies.Contains(assembly)
            ? IsRecord(type)
            : assembly.StartsWith("Akka", StringComparison.Ordinal) && typeof(ISurrogate).IsAssignableFrom(type);
    }

    /// <summary>A record only holds what it is given: no type of ours with a constructor that acts (a file, a process) is made.</summary>
    private static bool IsRecord(Type type) => type.GetMethod("<Clone>$") is not null;
}
