"""Live settings: values staff change while Kizuna runs (sender name, password rules...)."""
