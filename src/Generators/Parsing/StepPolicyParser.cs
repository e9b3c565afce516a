using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using Durably.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Durably.Generators.Parsing;

/// <summary>
/// Reads a <c>[Step]</c>'s failure-handling settings — retries, timeout, circuit breaker, compensation — checking each value as the
/// runtime would (DURABLY0012, DURABLY0013, DURABLY0014, DURABLY0019), and its compensation (<see cref="CompensationParser"/>).
/// </summary>
internal static class StepPolicyParser
{
    private static readonly Regex s_duration = new(@"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$", RegexOptions.CultureInvariant);

    private static readonly SymbolDisplayFormat s_typeFormat = SymbolDisplayFormat.FullyQualifiedFormat;

    // Polly's limits for its timeout strategy.
    private const long MinTimeoutTicks = 10 * TimeSpan.TicksPerMillisecond;
    private const long MaxTimeoutTicks = TimeSpan.TicksPerDay;

    /// <summary>The settings the attribute sets, or null when it sets none; a bad value is reported and left out.</summary>
    public static StepPolicyModel? Parse(IMethodSymbol step, AttributeData attribute, List<Diagnostic> diagnostics)
    {
        int? maxAttempts = null;
        double? coefficient = null, jitter = null;
        DurationModel? initialDelay = null, maxDelay = null, timeout = null;
        string? breaker = null;
        CompensationModel? compensation = null;
        var anyPolicy = false;
        var transactional = false;
        EquatableArray<string>? retryOn = null, doNotRetryOn = null;
        var any = false;
        foreach (var argument in attribute.NamedArguments)
        {
            var value = argument.Value;
            var location = ArgumentLocation(attribute, argument.Key) ?? step.Locations.FirstOrDefault() ?? Location.None;
            void Invalid(string shown, string expected)
                => diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidStepPolicySetting, location, step.Name, argument.Key, shown, expected));

            switch (argument.Key)
            {
                case "MaxAttempts" when value.Value is int attempts:
                    any = true;
                    if (attempts < 1)
                    {
                        Invalid(attempts.ToString(CultureInfo.InvariantCulture), "at least 1");
                    }
                    else
                    {
                        maxAttempts = attempts;
                    }

                    break;
                case "BackoffCoefficient" when value.Value is double factor:
                    any = true;
                    if (!(factor >= 1) || double.IsInfinity(factor))
                    {
                        Invalid(factor.ToString("R", CultureInfo.InvariantCulture), "a finite number of at least 1");
                    }
                    else
                    {
                        coefficient = factor;
                    }

                    break;
                case "Jitter" when value.Value is double fraction:
                    any = true;
                    if (!(fraction is >= 0 and <= 1))
                    {
                        Invalid(fraction.ToString("R", CultureInfo.InvariantCulture), "between 0 and 1");
                    }
                    else
                    {
                        jitter = fraction;
                    }

                    break;
                case "InitialDelay" or "MaxDelay" when value.Value is string text:
                    any = true;
                    var duration = ParseDuration(text, step, argument.Key, location, diagnostics);
                    if (argument.Key == "InitialDelay")
                    {
                        initialDelay = duration;
                    }
                    else
                    {
                        maxDelay = duration;
                    }

                    break;
                case "Timeout" when value.Value is string text:
                    anyPolicy = true;
                    timeout = ParseDuration(text, step, argument.Key, location, diagnostics, "between 10ms and 1d");
                    if (timeout is not null && timeout.Ticks is < MinTimeoutTicks or > MaxTimeoutTicks)
                    {
                        Invalid("\"" + text + "\"", "between 10ms and 1d");
                        timeout = null;
                    }

                    break;
                case "Transactional" when value.Value is bool isTransactional:
                    anyPolicy |= isTransactional;
                    transactional = isTransactional;
                    break;
                case "CircuitBreaker" when value.Value is string name:
                    anyPolicy = true;
                    if (string.IsNullOrWhiteSpace(name))
                    {
                        Invalid("\"" + name + "\"", "a breaker's name, not empty");
                    }
                    else
                    {
                        breaker = name;
                    }

                    break;
                case "Compensate" when value.Value is string method:
                    anyPolicy = true;
                    compensation = CompensationParser.Parse(step, method, location, diagnostics);
                    break;
                case "RetryOn" or "DoNotRetryOn" when value.Kind == TypedConstantKind.Array && !value.IsNull:
                    any = true;
                    var types = new List<string>();
                    foreach (var element in value.Values)
                    {
                        if (element.Value is ITypeSymbol type && IsException(type))
                        {
                            types.Add(type.ToDisplayString(s_typeFormat));
                        }
                        else
                        {
                            Invalid("typeof(" + (element.Value as ITypeSymbol)?.ToDisplayString() + ")", "exception types");
                        }
                    }

                    if (argument.Key == "RetryOn")
                    {
                        retryOn = new EquatableArray<string>(types);
                    }
                    else
                    {
                        doNotRetryOn = new EquatableArray<string>(types);
                    }

                    break;
            }
        }

        if (initialDelay is not null && maxDelay is not null && maxDelay.Ticks < initialDelay.Ticks)
        {
            var location = ArgumentLocation(attribute, "MaxDelay") ?? Location.None;
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidStepPolicySetting, location, step.Name, "MaxDelay", "\"" + maxDelay.Text + "\"",
                "at least InitialDelay (\"" + initialDelay.Text + "\")"));
            maxDelay = null;
        }

        if (timeout is not null && !step.Parameters.Any(p => p.Type.ToDisplayString(s_typeFormat) == KnownNames.CancellationToken))
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.TimeoutWithoutCancellationToken, ArgumentLocation(attribute, "Timeout") ?? Location.None, step.Name));
        }

        if (timeout is not null && compensation is { NeedsResult: true })
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.CompensationNeedsResultOfTimedStep, ArgumentLocation(attribute, "Compensate") ?? Location.None,
                compensation.MethodName, step.Name));
        }

        var retry = any ? new RetryModel(maxAttempts, initialDelay, coefficient, maxDelay, jitter, retryOn, doNotRetryOn) : null;
        return any || anyPolicy ? new StepPolicyModel(retry, timeout, breaker, compensation, transactional) : null;
    }

    /// <summary>"500ms", "30s", "5m", "2h", "1d" (decimals allowed) or the invariant "c" format ("00:05:00").</summary>
    private static DurationModel? ParseDuration(string text, IMethodSymbol step, string property, Location location, List<Diagnostic> diagnostics, string range = "zero or more")
    {
        long? ticks = null;
        var match = s_duration.Match(text);
        if (match.Success)
        {
            var number = double.Parse(match.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
            var unit = match.Groups[2].Value switch
            {
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                "h" => TimeSpan.TicksPerHour,
                _ => TimeSpan.TicksPerDay,
            };
            var value = number * unit;
            ticks = value < TimeSpan.MaxValue.Ticks ? (long)value : null;
        }
        else if (TimeSpan.TryParseExact(text, "c", CultureInfo.InvariantCulture, out var parsed))
        {
            if (parsed < TimeSpan.Zero)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidStepPolicySetting, location, step.Name, property, "\"" + text + "\"", range));
                return null;
            }

            ticks = parsed.Ticks;
        }

        if (ticks is null)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.UnparseableDuration, location, step.Name, property, text));
            return null;
        }

        return new DurationModel(text, ticks.Value);
    }

    private static bool IsException(ITypeSymbol type)
    {
        for (var current = type; current is not null; current = current.BaseType)
        {
            if (current.ToDisplayString() == "System.Exception")
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Where <c>Name = value</c> is written in the attribute, so the diagnostic points at the setting (and #pragma works).</summary>
    internal static Location? ArgumentLocation(AttributeData attribute, string name)
        => (attribute.ApplicationSyntaxReference?.GetSyntax() as AttributeSyntax)?.ArgumentList?.Arguments
            .FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name)?.GetLocation();
}
