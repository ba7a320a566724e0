using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

// Usage: ModelFileProbe <model.zip> <rows.tsv>
// Loads the model in a fresh MLContext, scores the rows (a tab-separated file with a header naming the model's
// input columns, all read as text) and prints one line per row: the predicted label, a tab, and the Score vector
// as the hexadecimal bit patterns of its floats, so the caller can compare scores bit for bit.
// Exit codes: 0 scored, 2 bad arguments, 3 Ghost.ML was loaded before mlContext.Model.Load.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: ModelFileProbe <model.zip> <rows.tsv>");
    return 2;
}

if (AppDomain.CurrentDomain.GetAssemblies().Any(assembly => assembly.GetName().Name == "Ghost.ML"))
{
    Console.Error.WriteLine("Ghost.ML was loaded before mlContext.Model.Load.");
    return 3;
}

var mlContext = new MLContext();
var model = mlContext.Model.Load(args[0], out var inputSchema);
var columns = inputSchema.Select((column, index) => new TextLoader.Column(column.Name, DataKind.String, index)).ToArray();
var rows = mlContext.Data.LoadFromTextFile(args[1], columns, separatorChar: '\t', hasHeader: true);
var scored = model.Transform(rows);
var labels = scored.GetColumn<string>("PredictedLabel").ToList();
var scores = scored.GetColumn<float[]>("Score").ToList();
for (int row = 0; row < scores.Count; row++)
{
    var bits = scores[row].Select(score => BitConverter.SingleToInt32Bits(score).ToString("X8", CultureInfo.InvariantCulture));
    Console.WriteLine($"{labels[row]}\t{string.Join(',', bits)}");
}

return 0;
