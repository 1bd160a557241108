"""Operations: figures for monitoring and the subjects peak mode precomputes answers for."""
