// A file-local type as a step argument: generated code lives in another file and cannot name it.
using System.Threading.Tasks;
using Durably;

namespace Shapes;

file sealed record Note(string Text);

[DurableWorkflow]
public partial class Memo
{
    [WorkflowRun]
    public async Task<string> RunAsync(string text) => await Write(new Note(text));

    [Step]
    private Task<string> Write(Note note) => Task.FromResult(note.Text);
}
