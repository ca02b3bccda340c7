/*  Integration: autofab-line on the bus against the real twin (written below). */
