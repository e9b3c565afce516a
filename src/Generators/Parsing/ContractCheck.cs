using System.Collections.Generic;
using System.Linq;
using Durably.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Durably.Generators.Parsing;

/// <summary>
/// Compares a workflow's contract with the one accepted for its name and version in <c>durably.contracts.json</c> and
/// reports what would break its runs in flight: a step gone, journaled types changed, a signal's payload changed,
/// durable calls inserted, removed or reordered outside a patch. What runs do not depend on — step bodies, comments,
/// policies, new workflows, new steps behind a patch — passes.
/// </summary>
internal static class ContractCheck
{
    public static EquatableArray<EquatableDiagnostic> Compare(WorkflowModel workflow, Location location, AcceptedContracts accepted)
    {
        var acceptedContract = accepted.Contracts.FirstOrDefault(c => c.Name == workflow.WorkflowName && c.Version == workflow.Version);
        if (acceptedContract is null)
        {
            return EquatableArray<EquatableDiagnostic>.Empty;
        }

        var file = AcceptedContracts.FileName;
        var was = Facts.Of(acceptedContract.Facts);
        var now = Facts.Of(workflow.Contract.Split('\n'));
        var diagnostics = new List<Diagnostic>();
        void Report(DiagnosticDescriptor descriptor, params object[] arguments)
            => diagnostics.Add(Diagnostic.Create(descriptor, location, new object[] { workflow.WorkflowName, Text(workflow.Version) }.Concat(arguments).ToArray()));

        if (was.Run is { } run && now.Run is { } current && run != current)
        {
            Report(DiagnosticDescriptors.ContractTypesChanged, "its run method", run, current, file);
        }

        foreach (var step in was.Steps)
        {
            var (id, signature) = (step.Key, step.Value);
            if (!now.Steps.TryGetValue(id, out var currentSignature))
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.ContractStepRemoved, location, workflow.WorkflowName, Text(workflow.Version), id, file, Text(workflow.Version + 1)));
            }
            else if (currentSignature != signature)
            {
                Report(DiagnosticDescriptors.ContractTypesChanged, $"step '{id}'", signature, currentSignature, file);
            }
        }

        foreach (var signal in was.Signals)
        {
            var (name, payload) = (signal.Key, signal.Value);
            if (now.Signals.TryGetValue(name, out var currentPayload) && currentPayload != payload)
            {
                Report(DiagnosticDescriptors.ContractSignalChanged, name, payload, currentPayload, file);
            }
        }

        if (CallsChange(Unguarded(was.Calls), Unguarded(now.Calls)) is { } change)
        {
            Report(DiagnosticDescriptors.ContractCallsChanged, change, file);
        }

        return new EquatableArray<EquatableDiagnostic>([.. diagnostics.Select(d => new EquatableDiagnostic(d))]);
    }

    private static string Text(int number) => number.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The durable calls outside every patch: patch checks and the calls in their new branches are left out.</summary>
    private static List<string> Unguarded(IEnumerable<string> calls)
        => [.. calls.Where(c => !c.Contains('>') && !c.StartsWith("patch:", System.StringComparison.Ordinal) && !c.StartsWith("deprecated-patch:", System.StringComparison.Ordinal))];

    /// <summary>How <paramref name="now"/> differs from <paramref name="was"/>, in words, or null when they are the same.</summary>
    private static string? CallsChange(List<string> was, List<string> now)
    {
        var common = 0;
        while (common < was.Count && common < now.Count && was[common] == now[common])
        {
            common++;
        }

        if (common == was.Count && common == now.Count)
        {
            return null;
        }

        var position = common + 1;
        if (common == now.Count)
        {
            return $"no longer calls {Describe(was[common])} (durable call {position})";
        }

        if (common == was.Count || (was.Count < now.Count && was.Skip(common).SequenceEqual(now.Skip(common + 1))))
        {
            return $"calls {Describe(now[common])} where it did not (durable call {position})";
        }

        return was.Count > now.Count && was.Skip(common + 1).SequenceEqual(now.Skip(common))
            ? $"no longer calls {Describe(was[common])} (durable call {position})"
            : $"calls {Describe(now[common])} where it called {Describe(was[common])} (durable call {position})";
    }

    private static string Describe(string call) => call switch
    {
        "timer" => "a durable timer",
        _ when call.StartsWith("step:", System.StringComparison.Ordinal) => $"step '{call.Substring(5)}'",
        _ when call.StartsWith("signal:", System.StringComparison.Ordinal) => $"a wait for signal '{call.Substring(7)}'",
        _ => call,
    };

    /// <summary>A contract's facts, by kind.</summary>
    private sealed class Facts
    {
        public string? Run { get; private set; }

        public Dictionary<string, string> Steps { get; } = new(System.StringComparer.Ordinal);

        public Dictionary<string, string> Signals { get; } = new(System.StringComparer.Ordinal);

        public List<string> Calls { get; } = [];

        public static Facts Of(IEnumerable<string> lines)
        {
            var facts = new Facts();
            foreach (var line in lines)
            {
                if (line.StartsWith("run ", System.StringComparison.Ordinal))
                {
                    facts.Run = line.Substring(4);
                }
                else if (line.StartsWith("step ", System.StringComparison.Ordinal) && line.IndexOf(' ', 5) is var space and > 5)
                {
                    facts.Steps[line.Substring(5, space - 5)] = line.Substring(space + 1);
                }
                else if (line.StartsWith("signal ", System.StringComparison.Ordinal) && line.IndexOf(' ', 7) is var gap and > 7)
                {
                    facts.Signals[line.Substring(7, gap - 7)] = line.Substring(gap + 1);
                }
                else if (line.StartsWith("calls", System.StringComparison.Ordinal))
                {
                    facts.Calls.AddRange(line.Substring(5).Split(',').Select(c => c.Trim()).Where(c => c.Length > 0));
                }
            }

            return facts;
        }
    }
}
