using System.Reflection;
using Durably.Generators.Model;

namespace Durably.Generators.Tests;

public class ModelShapeTests
{
    /// <summary>
    /// The model is compared by value to decide whether to re-emit: a Roslyn type in it (symbol, syntax node,
    /// location, compilation) would defeat caching and keep whole compilations alive.
    /// </summary>
    [Fact]
    public void Model_holds_only_strings_values_and_other_models()
    {
        var problems = new List<string>();
        Walk(typeof(WorkflowModel), "WorkflowModel", new HashSet<Type>(), problems);
        Assert.Empty(problems);
    }

    private static void Walk(Type type, string path, HashSet<Type> seen, List<string> problems)
    {
        if (!seen.Add(type))
        {
            return;
        }

        if (type == typeof(string) || type.IsPrimitive || type.IsEnum)
        {
            return;
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Nullable<>))
        {
            Walk(type.GetGenericArguments()[0], path, seen, problems);
            return;
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(EquatableArray<>))
        {
            Walk(type.GetGenericArguments()[0], path + "[]", seen, problems);
            return;
        }

        if (type.Namespace != typeof(WorkflowModel).Namespace || !type.IsSealed || type.GetMethod("<Clone>$") is null)
        {
            problems.Add($"{path}: {type.FullName} is not a string, value, enum, EquatableArray or sealed model record");
            return;
        }

        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.Name != "EqualityContract" && p.GetMethod?.IsPublic == true && p.SetMethod is not null))
        {
            Walk(property.PropertyType, path + "." + property.Name, seen, problems);
        }
    }
}
