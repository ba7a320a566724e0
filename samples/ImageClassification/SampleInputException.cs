namespace ImageClassification;

/// <summary>Input the sample cannot work with. The command line shows its message as one line and exits non-zero.</summary>
internal sealed class SampleInputException(string message) : Exception(message);
