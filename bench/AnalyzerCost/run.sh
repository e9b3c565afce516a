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
cat > "$out/Cost.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <NoWarn>\$(NoWarn);CS1591</NoWarn>
    <ManagePackageVersionsCentrally>true</ManagePackageVersionsCentrally>
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
echo "generator + analyzers: ${all} ms"
echo "generator only:        ${noanal} ms"
echo "analyzers cost:        $(( all - noanal )) ms"
echo "compiler's own report (-p:ReportAnalyzer=true), seconds and % of analyzer time:"
dotnet build -nologo --no-restore --no-dependencies -p:BuildProjectReferences=false --no-incremental -v:d -p:ReportAnalyzer=true 2>/dev/null \
  | grep -E "Total (analyzer|generator) execution time|^ *[0-9.<]+ +[0-9<]+ +Durably\.|Durably\.Generators, Version" | sed 's/^ *//' | sort -u
