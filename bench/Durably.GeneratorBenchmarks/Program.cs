using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Durably.GeneratorBenchmarks.EditBenchmarks).Assembly).Run(args);
