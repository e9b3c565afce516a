using Durably.Generators.Model;

namespace Durably.Generators.Tests;

public class EquatableArrayTests
{
    [Fact]
    public void Arrays_with_the_same_elements_are_equal_and_hash_alike()
    {
        var a = new EquatableArray<string>(["Reserve", "Charge"]);
        var b = new EquatableArray<string>(["Reserve", "Charge"]);
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    [Fact]
    public void Arrays_with_other_elements_or_order_differ()
    {
        var a = new EquatableArray<string>(["Reserve", "Charge"]);
        Assert.NotEqual(a, new EquatableArray<string>(["Charge", "Reserve"]));
        Assert.NotEqual(a, new EquatableArray<string>(["Reserve"]));
    }

    [Fact]
    public void Default_equals_empty()
    {
        Assert.Equal(default, EquatableArray<string>.Empty);
        Assert.Empty(default(EquatableArray<string>));
    }
}
