using System.Buffers.Binary;
using System.Reflection;
using AkkaMigration.Tests.Integration;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Specs;

/// <summary>
/// `make check` leaves out the tests that need real podman, CRIU or simulated hosts by their
/// category, so a new test of that kind without one would make the fast lane slow, or fail on a
/// machine without podman. What needs real hosts is found in the code, not by namespace: whatever
/// calls <see cref="Prerequisites"/> is a real-hosts fixture.
/// </summary>
public sealed class TestCategorySpecs
{
    private static readonly string[] Slow = ["Integration", "EndToEnd", "Bench", "Faults", "Nemesis"];
    private static readonly Assembly Tests = typeof(TestCategorySpecs).Assembly;

    [Fact]
    public void Every_test_class_that_needs_real_hosts_carries_a_slow_category()
    {
        var fixtures = TypesCalling(typeof(Prerequisites));
        bool IsFixture(Type t) => fixtures.Any(f => f.IsAssignableFrom(t));
        var collections = Tests.GetTypes()
            .Where(t => t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(ICollectionFixture<>) && IsFixture(i.GetGenericArguments()[0])))
            .Select(t => Argument<CollectionDefinitionAttribute>(t))
            .ToHashSet();

        var needRealHosts = TestClasses().Where(t => fixtures.Contains(t)
            || collections.Contains(Argument<CollectionAttribute>(t))
            || t.GetConstructors().SelectMany(c => c.GetParameters()).Any(p => IsFixture(p.ParameterType))).ToList();
        var uncategorized = needRealHosts.Where(t => !Slow.Contains(Category(t))).Select(t => t.FullName);

        Assert.NotEmpty(needRealHosts);
        Assert.Empty(uncategorized);
    }

    [Fact]
    public void Make_check_leaves_out_every_slow_category_and_nothing_else()
    {
        var check = File.ReadAllLines(Repo.Path("Makefile")).SkipWhile(l => !l.StartsWith("check:")).Skip(1).First();
        var leftOut = System.Text.RegularExpressions.Regex.Matches(check, "Category!=(\\w+)").Select(m => m.Groups[1].Value);

        Assert.Equal(Slow.Order(), leftOut.Order());
    }

    private static IEnumerable<Type> TestClasses() => Tests.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false }
        && t.GetMethods().Any(m => m.GetCustomAttributes<FactAttribute>().Any()));

    private static string? Category(Type type) => type.GetCustomAttributesData()
        .Where(a => a.AttributeType == typeof(TraitAttribute) && (string?)a.ConstructorArguments[0].Value == "Category")
        .Select(a => (string?)a.ConstructorArguments[1].Value).FirstOrDefault();

    private static string? Argument<TAttribute>(Type type) => type.GetCustomAttributesData()
        .Where(a => a.AttributeType == typeof(TAttribute)).Select(a => a.ConstructorArguments[0].Value as string).FirstOrDefault();

    /// <summary>
    /// The types whose code (async state machines and lambdas included) calls one of
    /// <paramref name="callee"/>'s methods: a <c>call</c> instruction with its method's token.
    /// </summary>
    private static HashSet<Type> TypesCalling(Type callee)
    {
        var tokens = callee.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .Select(m => m.MetadataToken).ToHashSet();
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        return Tests.GetTypes()
            .Where(t => t.GetMethods(all).Cast<MethodBase>().Concat(t.GetConstructors(all)).Any(m => Calls(m, tokens)))
            .Select(Outermost)
            .ToHashSet();
    }

    private static bool Calls(MethodBase method, HashSet<int> tokens)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray() ?? [];
        const byte call = 0x28;
        for (var i = 0; i + 5 <= il.Length; i++)
        {
            if (il[i] == call && tokens.Contains(BinaryPrimitives.ReadInt32LittleEndian(il.AsSpan(i + 1))))
            {
                return true;
            }
        }
        return false;
    }

    private static Type Outermost(Type type) => type.DeclaringType is { } outer ? Outermost(outer) : type;
}
