using AkkaMigration.Worker;

// One binary, one image, four modes: the +1 job the node runs, a key-value service to move live,
// the load generator that watches that service from outside, and a heartbeat that logs the same line.
switch (args.FirstOrDefault())
{
    case "kv":
        return KeyValueServer.Run(args[1..]);
    case "kv-load":
        return KeyValueLoad.Run(args[1..]);
    case "heartbeat":
        return Heartbeat.Run(args[1..]);
    case null:
        PrintUsage();
        return 2;
}

// Output is line based and read by the node: STARTED, PROGRESS and, last, RESULT.
if (!TryParse(args, out var number, out var workMillis, out var stateMb, out var kind, out var error))
{
    Console.Error.WriteLine(error);
    PrintUsage();
    return 2;
}

var workload = new Workload(number, workMillis, stateMb, kind);
// The default's line is as it always was; a text state says so at its end.
var kindNote = kind == StateKind.Text ? " state_kind=text" : "";
Console.WriteLine($"STARTED number={number} ticks={workload.TotalTicks} state_mb={stateMb} checksum={workload.InitialChecksum:x16}{kindNote}");
while (!workload.Finished)
{
    workload.Tick();
    Console.WriteLine($"PROGRESS {workload.TicksDone}/{workload.TotalTicks}");
}

var checksum = workload.CurrentChecksum();
var intact = checksum == workload.InitialChecksum ? "true" : "false";
Console.WriteLine($"RESULT value={workload.Result} checksum={checksum:x16} intact={intact}");
return 0;

static void PrintUsage()
{
    Console.Error.WriteLine("usage: worker --number N [--work-ms 3000] [--state-mb 0] [--state-kind random|text]");
    Console.Error.WriteLine("       " + KeyValueServer.Usage);
    Console.Error.WriteLine("       " + KeyValueLoad.Usage);
    Console.Error.WriteLine("       " + Heartbeat.Usage);
}

static bool TryParse(string[] args, out long number, out int workMillis, out int stateMb, out StateKind kind, out string error)
{
    number = 0;
    workMillis = 3000;
    stateMb = 0;
    // random (the default): incompressible bytes; text: compressible records (the benchmark's compression part).
    kind = StateKind.Random;
    error = "";
    var haveNumber = false;
    for (var i = 0; i < args.Length; i++)
    {
        var value = i + 1 < args.Length ? args[i + 1] : null;
        var ok = args[i] switch
        {
            "--number" => haveNumber = long.TryParse(value, out number) && number < long.MaxValue,
            "--work-ms" => int.TryParse(value, out workMillis) && workMillis >= 0,
            "--state-mb" => int.TryParse(value, out stateMb) && stateMb is >= 0 and <= 4096,
            "--state-kind" => TryParseKind(value, out kind),
            _ => false,
        };
        if (!ok)
        {
            error = $"bad argument: {args[i]} {value}";
            return false;
        }
        i++;
    }
    if (!haveNumber)
    {
        error = "--number is required";
        return false;
    }
    return true;
}

static bool TryParseKind(string? value, out StateKind kind)
{
    kind = value == "text" ? StateKind.Text : StateKind.Random;
    return value is "random" or "text";
}
