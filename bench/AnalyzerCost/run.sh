#!/usr/bin/env bash
# Measures what Durably's generator and analyzers cost a build: generates a project with N workflows (50 by default)
# under bench/AnalyzerCost/out, then times full rebuilds (median of R runs, 5 by default) three ways:
#   all       generator + analyzers (what an app gets)
#   no-anal   generator only (-p:RunAnalyzers=false; the interceptors still need the generator)
# and prints the analyzers' own execution time as the compiler reports it (-p:ReportAnalyzer=true).
# usage: bash bench/AnalyzerCost/run.sh [workflows] [runs]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
n="${1:-50}"; runs="${2:-5}"
out="$here/out"
rm -rf "$out"; mkdir -p "$out"
# The generated project stands alone, as an application's would: none of this repository's build settings (its
# code-style and CA analyzers, warnings as errors) reach it, so what is measured is what Durably costs an app.
echo '<Project />' > "$out/Directory.Build.props"
echo '<Project />' > "$out/Directory.Build.targets"
echo '<Project><PropertyGroup><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup></Project>' > "$out/Directory.Packages.props"
cat > "$out/Cost.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <NoWarn>\$(NoWarn);CS1591</NoWarn>
  </PropertyGroup>
  <Import Project="$here/../../src/Sdk/buildTransitive/Durably.props" />
  <ItemGroup>
    <ProjectReference Include="$here/../../src/Sdk/Durably.csproj" />
    <ProjectReference Include="$here/../../src/Generators/Durably.Generators.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
  </ItemGroup>
</Project>
XML
for i in $(seq 1 "$n"); do
cat > "$out/Workflow$i.cs" <<CS
using Durably;
namespace Cost;
public sealed record Order$i(string Id, decimal Amount, string[] Items);
[DurableWorkflow]
public partial class Workflow$i
{
    [WorkflowRun]
    public async Task<string> RunAsync(Order$i order)
    {
        var hold = await Reserve(order);
        var labels = await Task.WhenAll(order.Items.Select(item => Ship(order.Id, item)));
        if (Workflow.Now.Hour > 18) { await Workflow.SleepAsync(TimeSpan.FromHours(1)); }
        var total = Total(order, labels.Length);
        await Charge(order.Id, total);
        return hold + ":" + string.Join(",", labels) + ":" + Workflow.NewGuid();
    }
    private decimal Total(Order$i order, int parcels) => order.Amount + Fee(parcels);
    private static decimal Fee(int parcels) => parcels * 1.5m;
    [Step(MaxAttempts = 3, InitialDelay = "1s")] private Task<string> Reserve(Order$i order) => Task.FromResult(order.Id);
    [Step(Timeout = "30s")] private Task<string> Ship(string id, string item, CancellationToken ct = default) => Task.FromResult(id + item);
    [Step(Compensate = nameof(Refund))] private Task Charge(string id, decimal amount) => Task.CompletedTask;
    private Task Refund(string id, decimal amount) => Task.CompletedTask;
}
CS
done
cd "$out"
dotnet build -nologo -v:q > /dev/null   # restore and warm up
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
time_build() {
  for _ in $(seq 1 "$runs"); do
    local start end
    start=$(date +%s%N)
    dotnet build -nologo -v:q --no-restore --no-dependencies -p:BuildProjectReferences=false "$@" > /dev/null
    end=$(date +%s%N)
    echo $(( (end - start) / 1000000 ))
  done | median
}
all=$(time_build --no-incremental)
noanal=$(time_build --no-incremental -p:RunAnalyzers=false)
echo "workflows: $n, runs: $runs (median wall time of 'dotnet build --no-incremental' of the generated project)"
echo "full build:                          ${all} ms"
echo "full build without any analyzer:     ${noanal} ms   (-p:RunAnalyzers=false; the generator still runs)"
echo "every analyzer the project runs:     $(( all - noanal )) ms   (the SDK's default CA rules and Durably's together)"
report=$(dotnet build -nologo --no-restore --no-dependencies -p:BuildProjectReferences=false --no-incremental -v:d -p:ReportAnalyzer=true 2>/dev/null)
# The compiler's own breakdown: Durably's analyzers and generator, and the totals they are part of.
total_analyzers=$(echo "$report" | grep -oE "Total analyzer execution time: [0-9.]+" | head -1 | grep -oE "[0-9.]+$")
total_generators=$(echo "$report" | grep -oE "Total generator execution time: [0-9.]+" | head -1 | grep -oE "[0-9.]+$")
durably_analyzers=$(echo "$report" | grep -E "^ *[0-9.<]+ +[0-9<]+ +Durably\.Generators\.Analyzers\." | sort -u | awk '{s+=$1} END {printf "%.3f", s}')
durably_generator=$(echo "$report" | grep -E "^ *[0-9.<]+ +[0-9<]+ +Durably\.Generators\.WorkflowGenerator" | head -1 | awk '{print $1}')
echo "compiler's report (-p:ReportAnalyzer=true), seconds of execution:"
echo "  Durably's analyzers:  ${durably_analyzers} of ${total_analyzers} s of all analyzers"
echo "  Durably's generator:  ${durably_generator} of ${total_generators} s of all generators"
echo "$report" | grep -E "^ *[0-9.<]+ +[0-9<]+ +Durably\.Generators\.(Analyzers\.|WorkflowGenerator)" | sed 's/^ */  /' | sort -u
