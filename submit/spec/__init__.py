"""Study metadata: the read-only model, its CSV sheets, validation, CT and the P21 workbook."""
