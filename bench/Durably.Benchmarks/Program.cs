using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Durably.Benchmarks [-- --filter *]
// The engine's cost per step on the in-memory store; per step = (TenStepsRun − NoStepsRun) / 10, time and allocations.
BenchmarkSwitcher.FromAssembly(typeof(Durably.Benchmarks.EngineBenchmarks).Assembly).Run(args);
