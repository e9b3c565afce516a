using System;
using System.Globalization;
using Microsoft.CodeAnalysis;

namespace Durably.Generators.Parsing;

/// <summary>
/// A diagnostic that compares by what it says — id, severity, location and rendered message — so a pipeline stage that
/// carries diagnostics stays cached when the code did not change. Roslyn's own <see cref="Diagnostic"/> compares its
/// message arguments by reference, and the parser builds fresh argument strings on every run.
/// </summary>
internal sealed class EquatableDiagnostic(Diagnostic diagnostic) : IEquatable<EquatableDiagnostic>
{
    /// <summary>The diagnostic to report, with its real location (so <c>#pragma warning disable</c> works on it).</summary>
    public Diagnostic Diagnostic { get; } = diagnostic;

    public bool Equals(EquatableDiagnostic? other)
        => other is not null
            && Diagnostic.Id == other.Diagnostic.Id
            && Diagnostic.Severity == other.Diagnostic.Severity
            && Diagnostic.Location == other.Diagnostic.Location
            && Diagnostic.GetMessage(CultureInfo.InvariantCulture) == other.Diagnostic.GetMessage(CultureInfo.InvariantCulture);

    public override bool Equals(object? obj) => Equals(obj as EquatableDiagnostic);

    public override int GetHashCode() => (Diagnostic.Id.GetHashCode() * 397) ^ Diagnostic.Location.GetHashCode();
}
