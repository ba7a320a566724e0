// Lets Ghost.ML call the internal members of Microsoft.ML.Core that ML.NET's model format needs (see MLNetModelFormat).
// The runtime honours this attribute by name; .NET does not ship it, so the assembly declares its own copy.
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Core")]

namespace System.Runtime.CompilerServices;

/// <summary>Tells the runtime to skip access checks from this assembly into the named one.</summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
internal sealed class IgnoresAccessChecksToAttribute(string assemblyName) : Attribute
{
    /// <summary>The assembly whose internal members this assembly uses.</summary>
    public string AssemblyName { get; } = assemblyName;
}
