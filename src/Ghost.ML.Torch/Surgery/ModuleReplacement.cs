using System.Collections;
using System.Reflection;
using System.Runtime.CompilerServices;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Ghost.ML.Torch;

/// <summary>
/// Swaps one child module for another inside its parent, wherever the parent holds it.
/// </summary>
/// <remarks>
/// TorchSharp modules reach their children two ways: the registry (<c>named_children</c>, <c>parameters</c>,
/// <c>state_dict</c>) and the fields that <c>forward</c> reads, which may be private and readonly (TorchVision's
/// ResNet), lists (<c>Sequential</c>, <c>ModuleList</c>) or dictionaries (<c>ModuleDict</c>). Replacing only one of
/// them leaves a model that trains one layer and runs another, so both are rewritten, and the result is checked.
/// </remarks>
internal static class ModuleReplacement
{
    private static readonly FieldInfo RegistryField = typeof(nn.Module)
        .GetField("_internal_submodules", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException("This TorchSharp version keeps no '_internal_submodules' registry; Ghost.ML's model surgery does not support it.");

    /// <summary>Throws when a field of <paramref name="parent"/> holds <paramref name="oldChild"/> but cannot hold <paramref name="newChild"/>.</summary>
    /// <exception cref="InvalidOperationException">A field typed too narrowly holds the old child.</exception>
    public static void EnsureReplaceable(nn.Module parent, nn.Module oldChild, nn.Module newChild)
    {
        foreach (var field in InstanceFields(parent.GetType()))
        {
            if (ReferenceEquals(field.GetValue(parent), oldChild) && !field.FieldType.IsInstanceOfType(newChild))
            {
                throw new InvalidOperationException(
                    $"{parent.GetType().Name}.{field.Name} is declared as {field.FieldType.Name}, which cannot hold a {newChild.GetType().Name}. " +
                    "Declare the field as Module<Tensor, Tensor> (or TorchSharp.Modules.BatchNorm) so the layer can be replaced.");
            }
        }
    }

    /// <summary>Replaces every reference <paramref name="parent"/> holds to <paramref name="oldChild"/>.</summary>
    /// <exception cref="InvalidOperationException">The parent still reports the old child afterwards.</exception>
    public static void Replace(nn.Module parent, nn.Module oldChild, nn.Module newChild)
    {
        if (RegistryField.GetValue(parent) is OrderedDict<string, nn.Module> registry)
        {
            foreach (var name in registry.keys().ToList())
            {
                if (ReferenceEquals(registry[name], oldChild))
                {
                    registry[name] = newChild;
                }
            }
        }

        foreach (var field in InstanceFields(parent.GetType()).Where(field => field != RegistryField))
        {
            ReplaceInField(parent, field, oldChild, newChild);
        }

        if (parent.named_children().Any(child => ReferenceEquals(child.module, oldChild)))
        {
            throw new InvalidOperationException(
                $"Could not replace {oldChild.GetName()} inside {parent.GetType().Name}: the module keeps it somewhere model surgery cannot reach.");
        }
    }

    private static IEnumerable<FieldInfo> InstanceFields(Type type)
    {
        for (var current = type; current is not null && current != typeof(object); current = current.BaseType)
        {
            foreach (var field in current.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                yield return field;
            }
        }
    }

    private static void ReplaceInField(nn.Module parent, FieldInfo field, nn.Module oldChild, nn.Module newChild)
    {
        var value = field.GetValue(parent);
        switch (value)
        {
            case null:
                return;
            case nn.Module module when ReferenceEquals(module, oldChild):
                field.SetValue(parent, newChild);
                return;
            case IDictionary dictionary:
                foreach (var key in dictionary.Keys.Cast<object>().ToList())
                {
                    if (ReferenceEquals(dictionary[key], oldChild))
                    {
                        dictionary[key] = newChild;
                    }
                }

                return;
            case IList list:
                for (var i = 0; i < list.Count; i++)
                {
                    var item = list[i];
                    if (ReferenceEquals(item, oldChild))
                    {
                        list[i] = newChild;
                    }
                    else if (item is ITuple { Length: 2 } pair && ReferenceEquals(pair[1], oldChild))
                    {
                        // ModuleDict keeps (name, module) pairs.
                        list[i] = Activator.CreateInstance(item.GetType(), pair[0], newChild);
                    }
                }

                return;
        }
    }
}
