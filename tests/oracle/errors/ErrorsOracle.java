// Prints every error code kafka-clients knows: "CODE NAME RETRIABLE" (1 or 0), one a line.
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.protocol.Errors;

public class ErrorsOracle {
    public static void main(String[] args) {
        for (Errors e : Errors.values())
            System.out.println(e.code() + " " + e.name() + " "
                               + (e.exception() instanceof RetriableException ? 1 : 0));
    }
}
