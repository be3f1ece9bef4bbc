using System.Globalization;
using System.Numerics;

namespace AkkaMigration.Client.Console;

/// <summary>Checks what a person typed before anything is sent.</summary>
public static class Input
{
    /// <summary>A whole number whose successor still fits in 64 bits.</summary>
    public static bool TryParseNumber(string? text, out long number, out string error)
    {
        number = 0;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text) || !BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var big))
        {
            error = $"'{text}' is not a whole number";
            return false;
        }
        if (big < long.MinValue || big >= long.MaxValue)
        {
            error = $"{text} is too large: the number and its successor must fit in 64 bits ({long.MinValue} to {long.MaxValue - 1})";
            return false;
        }
        number = (long)big;
        error = "";
        return true;
    }
}
