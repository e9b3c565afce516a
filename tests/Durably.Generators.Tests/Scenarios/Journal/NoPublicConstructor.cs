// A result type with only a private constructor.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

public sealed class Token
{
    private Token(string value) => Value = value;

    public string Value { get; set; }

    public static Token Create(string value) => new(value);
}

[DurableWorkflow]
public partial class Issuer
{
    [WorkflowRun]
    public async Task<string> RunAsync(string user) => (await Issue(user)).Value;

    [Step]
    public Task<Token> Issue(string user) => Task.FromResult(Token.Create("t-" + user));
}
