namespace Durably.Runtime.Tests.Support;

/// <summary>Finds the prebuilt output of another project in this repository, built in this test's configuration and framework.</summary>
internal static class BuiltOutput
{
    /// <summary>The repository's root folder.</summary>
    public static string Repository => new DirectoryInfo(AppContext.BaseDirectory).Parent!.Parent!.Parent!.Parent!.Parent!.FullName;

    /// <param name="projectFolder">The project's folder relative to the repository root, e.g. <c>samples/OrderFulfillment</c>.</param>
    /// <param name="assembly">The assembly's file name.</param>
    public static string Path(string projectFolder, string assembly)
    {
        // This test runs from <repo>/tests/<project>/bin/<configuration>/<framework>/.
        var output = new DirectoryInfo(AppContext.BaseDirectory);
        var repository = output.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        var path = System.IO.Path.Combine(repository, projectFolder, "bin", output.Parent.Name, output.Name, assembly);
        Assert.True(File.Exists(path), $"{assembly} is not built at {path}");
        return path;
    }
}
