using System.Text;
using System.Text.Json;

namespace Durably.Runtime.Engine;

/// <summary>Turns journaled values into JSON and back, enforcing the payload limit and naming the value on failure.</summary>
internal sealed class PayloadSerializer(JsonSerializerOptions options, int maxBytes, string limit = "DurableOptions.MaxPayloadBytes")
{
    /// <param name="value">The value.</param>
    /// <param name="what">What the value is, for the error: "the input of workflow 'Orders'".</param>
    public string Serialize<T>(T value, string what)
    {
        string json;
        try
        {
            json = JsonSerializer.Serialize(value, options);
        }
        catch (Exception ex) when (ex is NotSupportedException or JsonException or InvalidOperationException or ArgumentException)
        {
            throw new PayloadException($"{what} cannot be serialised as JSON: type '{TypeNames.Display(typeof(T))}': {ex.Message}", typeof(T), ex);
        }

        var size = Encoding.UTF8.GetByteCount(json);
        if (size > maxBytes)
        {
            throw new PayloadException(
                $"{what} is {size} bytes as JSON, over the limit of {maxBytes} bytes ({limit}); {(limit == "DurableOptions.MaxPayloadBytes" ? "journal a reference to large data instead" : "keep it small")}.",
                typeof(T));
        }

        return json;
    }

    /// <summary>Throws <see cref="ArgumentException"/>, naming both types, unless <paramref name="json"/> reads as <paramref name="declared"/>.</summary>
    /// <param name="json">The value sent, as JSON.</param>
    /// <param name="declared">The type the reader expects.</param>
    /// <param name="sent">The type the sender passed.</param>
    /// <param name="what">What the value is, for the error.</param>
    public void CheckReadable(string json, Type declared, Type sent, string what)
    {
        try
        {
            if (JsonSerializer.Deserialize(json, declared, options) is null && declared.IsValueType && Nullable.GetUnderlyingType(declared) is null)
            {
                throw new JsonException("null is not a value of a non-nullable value type");
            }
        }
        catch (Exception ex) when (ex is NotSupportedException or JsonException or InvalidOperationException or ArgumentException)
        {
            throw new ArgumentException(
                $"{what} is a {TypeNames.Display(sent)} that cannot be read as the declared {TypeNames.Display(declared)} ({ex.Message}); nothing was sent. Send a {TypeNames.Display(declared)}.",
                "payload", ex);
        }
    }

    /// <param name="json">The journaled JSON.</param>
    /// <param name="what">What the value is, for the error.</param>
    public T Deserialize<T>(string json, string what)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, options)!;
        }
        catch (Exception ex) when (ex is NotSupportedException or JsonException or InvalidOperationException or ArgumentException)
        {
            throw new PayloadException($"{what} cannot be read as type '{TypeNames.Display(typeof(T))}': {ex.Message}", typeof(T), ex);
        }
    }
}

/// <summary>C#-style type names for messages: <c>List&lt;Shop.Order&gt;</c> rather than <c>List`1[Shop.Order]</c>.</summary>
internal static class TypeNames
{
    public static string Display(Type type)
    {
        if (!type.IsGenericType)
        {
            return type.FullName ?? type.Name;
        }

        var name = type.GetGenericTypeDefinition().FullName ?? type.Name;
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        return (tick < 0 ? name : name[..tick]) + "<" + string.Join(", ", type.GetGenericArguments().Select(Display)) + ">";
    }
}
